#!/usr/bin/env node
// `make bench`: runs every benchmark against the running local control plane and writes one report
// (Markdown and JSON: benchmark, figure, target, measured, machine) under reports/, printing its path.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { defaultRunDir, readState, repoRoot } from "@kubeplus/dev";
import { benchAdmission } from "./admission.js";
import { benchHelmer } from "./helmer.js";
import { benchMetrics } from "./metrics.js";
import { benchPlugins } from "./plugins.js";
import { machine, toMarkdown, type Figure } from "./report.js";

const BENCHMARKS: Record<string, typeof benchAdmission> = {
  admission: benchAdmission,
  helmer: benchHelmer,
  metrics: benchMetrics,
  plugins: benchPlugins,
};

async function main(): Promise<number> {
  const only = process.argv.slice(2);
  const state = readState(defaultRunDir(process.env));
  if (!state)
    throw new Error(
      "no local control plane is running; start one with 'make cluster-up' (make bench does)",
    );
  const figures: Figure[] = [];
  for (const [name, run] of Object.entries(BENCHMARKS)) {
    if (only.length > 0 && !only.includes(name)) continue;
    process.stderr.write(`[bench] ${name}...\n`);
    const result = await run(state);
    for (const f of result)
      process.stderr.write(`[bench]   ${f.figure}: ${f.measured} (target ${f.target})\n`);
    figures.push(...result);
  }
  const when = new Date().toISOString();
  const dir = join(repoRoot, "reports");
  mkdirSync(dir, { recursive: true });
  const base = join(dir, `bench-${when.replace(/[:.]/g, "-")}`);
  writeFileSync(`${base}.md`, toMarkdown(figures, when));
  writeFileSync(
    `${base}.json`,
    `${JSON.stringify({ when, machine: machine(), figures }, null, 2)}\n`,
  );
  process.stdout.write(`${toMarkdown(figures, when)}\nReport: ${base}.md (and .json)\n`);
  return 0;
}

// Exit explicitly: a watch a client library keeps open (the helmer figures read instances from one) must not keep
// `make bench` waiting after the report is written, with its control plane still up.
main().then(
  (code) => {
    process.exit(code);
  },
  (err: unknown) => {
    process.stderr.write(
      `bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exit(1);
  },
);
