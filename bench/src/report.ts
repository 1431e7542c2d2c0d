import { cpus, totalmem } from "node:os";

/** One measured figure against its target. */
export interface Figure {
  readonly benchmark: string;
  readonly figure: string;
  readonly target: string;
  readonly measured: string;
  readonly value: number;
  readonly unit: string;
  readonly met: boolean;
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] ?? Number.NaN;
}

export function machine(): string {
  const cpu = cpus();
  return `${cpu.length} x ${cpu[0]?.model.trim() ?? "cpu"}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
}

export function toMarkdown(figures: readonly Figure[], when: string): string {
  const rows = figures.map(
    (f) =>
      `| ${f.benchmark} | ${f.figure} | ${f.target} | ${f.measured} | ${f.met ? "yes" : "**no**"} |`,
  );
  return [
    `# KubePlus benchmarks (${when})`,
    "",
    `Machine: ${machine()}`,
    "",
    "| Benchmark | Figure | Target | Measured | Met |",
    "| --- | --- | --- | --- | --- |",
    ...rows,
    "",
  ].join("\n");
}
