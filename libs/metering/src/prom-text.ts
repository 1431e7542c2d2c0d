/** One sample of the Prometheus text exposition format. */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
  /** Milliseconds since the epoch, when the exposition gives one (kubelets do). */
  readonly timestampMs?: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(?:\s+(-?\d+))?\s*$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?\s*/g;

function parseValue(raw: string): number {
  if (raw === "+Inf") return Infinity;
  if (raw === "-Inf") return -Infinity;
  return Number(raw);
}

function unescape(value: string): string {
  return value.replace(/\\(["\\n])/g, (_m, c: string) => (c === "n" ? "\n" : c));
}

function parseLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const l of text.matchAll(LABEL)) if (l[1]) labels[l[1]] = unescape(l[2] ?? "");
  return labels;
}

function parseLine(line: string): Sample | undefined {
  if (line === "" || line.startsWith("#")) return undefined;
  const m = LINE.exec(line);
  if (!m?.[1] || m[4] === undefined) return undefined;
  const labels = parseLabels(m[3] ?? "");
  const value = parseValue(m[4]);
  if (Number.isNaN(value) && m[4] !== "NaN") return undefined;
  return { name: m[1], labels, value, ...(m[5] ? { timestampMs: Number(m[5]) } : {}) };
}

/** Parses the text format (comments and blank lines skipped); lines that do not parse are ignored. */
export function parsePrometheusText(text: string): Sample[] {
  return text.split("\n").flatMap((line) => {
    const sample = parseLine(line);
    return sample ? [sample] : [];
  });
}

/** Escapes a label value for the exposition format. */
export function escapeLabel(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}
