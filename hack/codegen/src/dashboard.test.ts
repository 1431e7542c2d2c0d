import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Panel, RowPanel } from "@grafana/schema";
import { describe, expect, it } from "vitest";
import { ServiceMetrics } from "@kubeplus/runtime";
import { kubeplusDashboard } from "./dashboard.js";

const file = join(
  dirname(fileURLToPath(import.meta.url)),
  "..",
  "..",
  "..",
  "deploy",
  "grafana",
  "kubeplus-dashboard.json",
);

/** Every series name the services can expose: all groups of the runtime's metrics module, and prom-client's defaults. */
async function exposedNames(): Promise<Set<string>> {
  const m = new ServiceMetrics();
  m.controller("instance", 1);
  m.workQueue("instance");
  m.helm.ran("template", "success", 0);
  m.admission.reviewed({ webhook: "validate", kind: "K", operation: "CREATE" }, "allowed", 0);
  m.charts.lookup("chart", true);
  await m.nats.request("s", () => Promise.resolve(1));
  m.nats.handle("s", () => Promise.resolve(1));
  const names = new Set<string>();
  for (const family of await m.registry.getMetricsAsJSON()) {
    names.add(family.name);
    if (String(family.type) === "histogram")
      for (const suffix of ["_bucket", "_sum", "_count"]) names.add(`${family.name}${suffix}`);
  }
  return names;
}

const FUNCTIONS = new Set(["sum", "max", "rate", "histogram_quantile", "by"]);

/** The metric names a PromQL expression reads (label matchers, groupings and functions left out). */
function metricsIn(expr: string): string[] {
  const bare = expr
    .replace(/by \([^)]*\)/g, " ")
    .replace(/\{[^}]*\}/g, " ")
    .replace(/\[[^\]]*\]/g, " ");
  return (bare.match(/[a-zA-Z_:][a-zA-Z0-9_:]*/g) ?? []).filter((t) => !FUNCTIONS.has(t));
}

const timeseries = (panels: readonly (Panel | RowPanel)[]): Panel[] =>
  panels.filter((p): p is Panel => p.type !== "row");

describe("the Grafana dashboard in deploy/grafana", () => {
  it("is what dashboard.ts (typed by Grafana's dashboard schema) generates: run make generate after a change", () => {
    expect(JSON.parse(readFileSync(file, "utf8"))).toEqual(
      JSON.parse(JSON.stringify(kubeplusDashboard())),
    );
  });

  it("queries only families the services expose", async () => {
    const names = await exposedNames();
    const queried = timeseries(kubeplusDashboard().panels ?? []).flatMap((p) =>
      (p.targets ?? []).flatMap((t) => metricsIn(String((t as { expr?: unknown }).expr))),
    );
    expect(queried.length).toBeGreaterThan(20);
    expect(queried.filter((n) => !names.has(n))).toEqual([]);
    // And the other way round: every family of the runtime module is on the dashboard, defaults aside.
    const own = [...names].filter(
      (n) =>
        !n.startsWith("process_") && !n.startsWith("nodejs_") && !/_(bucket|sum|count)$/.test(n),
    );
    const shown = new Set(queried.map((n) => n.replace(/_(bucket|sum|count)$/, "")));
    expect(own.filter((n) => !shown.has(n))).toEqual([]);
  });

  it("lays its panels on Grafana's 24-column grid without overlap, each with a unique id", () => {
    const panels = kubeplusDashboard().panels ?? [];
    const ids = panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const cells = new Set<string>();
    for (const p of panels) {
      const g = p.gridPos;
      expect(g).toBeDefined();
      if (!g) continue;
      expect(g.x + g.w).toBeLessThanOrEqual(24);
      for (let x = g.x; x < g.x + g.w; x++)
        for (let y = g.y; y < g.y + g.h; y++) {
          expect(cells.has(`${x},${y}`)).toBe(false);
          cells.add(`${x},${y}`);
        }
    }
  });
});
