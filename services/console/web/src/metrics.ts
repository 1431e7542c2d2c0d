/**
 * An instance's usage over time, from the metrics-collector's ConfigMap `kubeplus-usage-<release>` in the release's
 * namespace (`usage.json`: the latest pass, rewritten every interval). The page watches that ConfigMap and keeps the
 * passes it sees as a series; network counters become rates between passes. Pure.
 */
import { get, str } from "./read.js";

/** The ConfigMap the metrics-collector writes beside a release. */
export const usageConfigMapName = (release: string): string => `kubeplus-usage-${release}`;

/** The release of an instance, from status.helmrelease (`<namespace>:<release>`), else its name. */
export function releaseName(status: unknown, instanceName: string): string {
  const hr = str(status, "helmrelease");
  const i = hr.indexOf(":");
  return i >= 0 && i < hr.length - 1 ? hr.slice(i + 1) : instanceName;
}

export interface UsageSample {
  /** When the pass ran (ms since the epoch). */
  readonly at: number;
  /** Figures a pass did not measure are null (never a silent zero). */
  readonly cpuCores: number | null;
  readonly memoryBytes: number | null;
  readonly storageBytes: number | null;
  readonly networkReceiveBytes: number | null;
  readonly networkTransmitBytes: number | null;
}

const numOrNull = (v: unknown): number | null =>
  typeof v === "number" && Number.isFinite(v) ? v : null;

/** The pass a usage ConfigMap holds, or undefined when it holds none that can be read. */
export function usageSample(configMap: unknown): UsageSample | undefined {
  const text = get(configMap, "data", "usage.json");
  if (typeof text !== "string") return undefined;
  let usage: unknown;
  try {
    usage = JSON.parse(text);
  } catch {
    return undefined;
  }
  const at = Date.parse(str(usage, "collectedAt"));
  if (Number.isNaN(at)) return undefined;
  return {
    at,
    cpuCores: numOrNull(get(usage, "cpuCores")),
    memoryBytes: numOrNull(get(usage, "memoryBytes")),
    storageBytes: numOrNull(get(usage, "storageBytes")),
    networkReceiveBytes: numOrNull(get(usage, "networkReceiveBytes")),
    networkTransmitBytes: numOrNull(get(usage, "networkTransmitBytes")),
  };
}

/** The series with a new pass added in time order (a pass seen twice is kept once), at most `max` passes. */
export function addSample(
  series: readonly UsageSample[],
  sample: UsageSample,
  max = 360,
): readonly UsageSample[] {
  if (series.some((s) => s.at === sample.at)) return series;
  const next = [...series, sample].sort((a, b) => a.at - b.at);
  return next.length > max ? next.slice(next.length - max) : next;
}

export interface Point {
  readonly at: number;
  readonly value: number;
}

/** A gauge's points (passes that did not measure it left out). */
export function gauge(
  series: readonly UsageSample[],
  field: "cpuCores" | "memoryBytes" | "storageBytes",
): Point[] {
  return series.flatMap((s) => (s[field] === null ? [] : [{ at: s.at, value: s[field] }]));
}

/**
 * A counter's rate per second between consecutive passes that measured it; a counter that went back (pods
 * restarted) counts from zero, as the metrics-collector's own record does.
 */
export function rate(
  series: readonly UsageSample[],
  field: "networkReceiveBytes" | "networkTransmitBytes",
): Point[] {
  const out: Point[] = [];
  let prev: { at: number; value: number } | undefined;
  for (const s of series) {
    const v = s[field];
    if (v === null) continue;
    if (prev && s.at > prev.at) {
      const increase = v >= prev.value ? v - prev.value : v;
      out.push({ at: s.at, value: increase / ((s.at - prev.at) / 1000) });
    }
    prev = { at: s.at, value: v };
  }
  return out;
}

/** A figure for people: bytes in binary units, cores with three decimals. */
export function formatValue(value: number, unit: "cores" | "bytes" | "bytes/s"): string {
  if (unit === "cores") return `${value.toFixed(3)} cores`;
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = value;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  const text = `${i === 0 ? Math.round(v) : v.toFixed(1)} ${units[i] ?? "B"}`;
  return unit === "bytes/s" ? `${text}/s` : text;
}

/** The points scaled into a `width` x `height` box (SVG coordinates: y grows downwards), and the largest value. */
export function scalePoints(
  points: readonly Point[],
  width: number,
  height: number,
): { path: string; max: number } {
  if (points.length === 0) return { path: "", max: 0 };
  const first = points[0]?.at ?? 0;
  const last = points[points.length - 1]?.at ?? first;
  const span = last - first || 1;
  const max = Math.max(...points.map((p) => p.value));
  const top = max > 0 ? max : 1;
  const path = points
    .map((p) => {
      const x = points.length === 1 ? width : ((p.at - first) / span) * width;
      const y = height - (p.value / top) * height;
      return `${x.toFixed(1)},${y.toFixed(1)}`;
    })
    .join(" ");
  return { path, max };
}
