import type { InstanceUsage } from "@kubeplus/contracts";
import type { Sample } from "./prom-text.js";
import { parseQuantity } from "@kubeplus/api";

/** What metering needs of a pod (from the Pod object). */
export interface PodFacts {
  readonly name: string;
  readonly node: string;
  readonly phase: string;
  readonly containers: number;
  readonly labels: Readonly<Record<string, string>>;
  readonly owner?: { readonly kind: string; readonly name: string };
  readonly startTime?: string;
  readonly claims: readonly string[];
  /** The address of the pod's node (status.hostIP), where appEndpoints are scraped on a NodePort. */
  readonly hostIP?: string;
}

/** What the kubelet said about one pod (resource metrics and cAdvisor network counters). */
export interface PodReading {
  cpuSeconds?: number;
  /** When the CPU counter was read: the kubelet's sample timestamp, else when its answer arrived. */
  cpuAtMs?: number;
  /**
   * The pod's sample before this one (carried between passes): a kubelet refreshes CPU every 10-20 s, so a pass
   * often sees the very sample the pass before saw, and is rated against this one instead.
   */
  cpuBefore?: { readonly cpuSeconds: number; readonly cpuAtMs: number };
  memoryBytes?: number;
  rxBytes?: number;
  txBytes?: number;
}

export type Readings = Map<string, PodReading>;

const podKey = (namespace: string, pod: string): string => `${namespace}/${pod}`;

type At = (s: Sample) => PodReading | undefined;

function readingAt(readings: Readings): At {
  return (s) => {
    const { namespace, pod } = s.labels;
    if (!namespace || !pod) return undefined;
    const key = podKey(namespace, pod);
    let r = readings.get(key);
    if (!r) readings.set(key, (r = {}));
    return r;
  };
}

function addResource(at: At, samples: Sample[], receivedAtMs?: number): void {
  for (const s of samples) {
    const field =
      s.name === "pod_cpu_usage_seconds_total"
        ? "cpuSeconds"
        : s.name === "pod_memory_working_set_bytes"
          ? "memoryBytes"
          : undefined;
    const r = field ? at(s) : undefined;
    if (r && field) r[field] = s.value;
    const readAt = s.timestampMs ?? receivedAtMs;
    if (r && field === "cpuSeconds" && readAt !== undefined) r.cpuAtMs = readAt;
  }
}

function addNetwork(at: At, samples: Sample[]): void {
  for (const s of samples) {
    const field =
      s.name === "container_network_receive_bytes_total"
        ? "rxBytes"
        : s.name === "container_network_transmit_bytes_total"
          ? "txBytes"
          : undefined;
    const r = field ? at(s) : undefined;
    // One series per interface of the pod's sandbox: sum them.
    if (r && field) r[field] = (r[field] ?? 0) + s.value;
  }
}

/**
 * Folds one node's /metrics/resource and /metrics/cadvisor samples into per-pod readings. `receivedAtMs` (when the
 * node answered) dates the CPU counters that carry no timestamp of their own.
 */
export function addNodeSamples(
  readings: Readings,
  resource: Sample[],
  cadvisor: Sample[],
  receivedAtMs?: number,
): void {
  const at = readingAt(readings);
  addResource(at, resource, receivedAtMs);
  addNetwork(at, cadvisor);
}

/** The release's objects (kind/name) as the helmer records them in the instance's status.inventory. */
/** How long a CPU counter stands in for one a kubelet left out (then the pod is measured from its start again). */
export const CARRY_COUNTER_MS = 10 * 60_000;

/**
 * The readings the next pass takes its CPU rates from: this pass's, with the last counter of each pod whose kubelet
 * left its CPU out this pass (a node that did not answer, a partial answer), for up to CARRY_COUNTER_MS. Without it,
 * the pass after a gap fell back to the pod's average since it started, which can be far from its current rate.
 */
export function carryCounters(
  previous: { readonly readings: Readings; readonly atMs: number } | undefined,
  current: Readings,
  nowMs: number,
): Readings {
  const next: Readings = new Map(
    [...current].map(([key, now]) => [key, withSampleBefore(now, previous?.readings.get(key))]),
  );
  for (const [key, before] of previous?.readings ?? []) {
    if (before.cpuSeconds === undefined) continue;
    const atMs = before.cpuAtMs ?? previous?.atMs ?? nowMs;
    const now = next.get(key);
    if (now?.cpuSeconds !== undefined || nowMs - atMs > CARRY_COUNTER_MS) continue;
    next.set(key, { ...now, cpuSeconds: before.cpuSeconds, cpuAtMs: atMs });
  }
  return next;
}

/** Whether two readings carry the same kubelet sample of a CPU counter (the kubelet has not refreshed it). */
const sameSample = (a: PodReading, b: PodReading): boolean =>
  a.cpuAtMs !== undefined && a.cpuAtMs === b.cpuAtMs && a.cpuSeconds === b.cpuSeconds;

/** `now`, remembering the distinct sample before it: the previous pass's, or for the same sample, its own before. */
function withSampleBefore(now: PodReading, before: PodReading | undefined): PodReading {
  if (now.cpuSeconds === undefined || before?.cpuSeconds === undefined) return now;
  if (sameSample(now, before))
    return before.cpuBefore ? { ...now, cpuBefore: before.cpuBefore } : now;
  if (before.cpuAtMs === undefined) return now;
  return { ...now, cpuBefore: { cpuSeconds: before.cpuSeconds, cpuAtMs: before.cpuAtMs } };
}

export type Inventory = readonly { readonly kind: string; readonly name: string }[];

export interface InstanceFacts {
  readonly kind: string;
  readonly group: string;
  readonly namespace: string;
  readonly name: string;
  readonly release: string;
  readonly targetNamespace: string;
  readonly inventory: Inventory;
  readonly monitorRelationships: "owner" | "all";
  /** Selectors of the release's Services (for `all`: pods related by selectors). */
  readonly serviceSelectors: readonly Readonly<Record<string, string>>[];
}

/** The workload a pod belongs to, seen through its owner: a ReplicaSet stands for its Deployment. */
function ownerOf(pod: PodFacts): string[] {
  if (!pod.owner) return [`Pod/${pod.name}`];
  const { kind, name } = pod.owner;
  const found = [`${kind}/${name}`];
  const hash = pod.labels["pod-template-hash"];
  if (kind === "ReplicaSet" && hash && name.endsWith(`-${hash}`))
    found.push(`Deployment/${name.slice(0, -hash.length - 1)}`);
  const cron = /^(.*)-\d+$/.exec(name);
  if (kind === "Job" && cron?.[1]) found.push(`CronJob/${cron[1]}`);
  return found;
}

const matches = (selector: Readonly<Record<string, string>>, labels: PodFacts["labels"]): boolean =>
  Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels[k] === v);

/** Whether `pod` is one of the instance's: owned through the release's objects, or (for `all`) related to them. */
export function belongsTo(pod: PodFacts, instance: InstanceFacts): boolean {
  const inventory = new Set(instance.inventory.map((o) => `${o.kind}/${o.name}`));
  if (ownerOf(pod).some((o) => inventory.has(o))) return true;
  if (instance.monitorRelationships !== "all") return false;
  if (pod.labels["app.kubernetes.io/instance"] === instance.release) return true;
  if (pod.labels.release === instance.release) return true;
  return instance.serviceSelectors.some((s) => matches(s, pod.labels));
}

export interface CollectInput {
  readonly instance: InstanceFacts;
  /** Every pod of the instance's namespace; the instance's own are picked with belongsTo. */
  readonly pods: readonly PodFacts[];
  /** Bound claims of the namespace: name and capacity (a quantity). */
  readonly claims: readonly { readonly name: string; readonly capacity: string }[];
  /** The namespace's ResourceQuota status (hard and used quantities). */
  readonly quota?: { readonly hard: Record<string, string>; readonly used: Record<string, string> };
  readonly readings: Readings;
  /** The readings of the previous pass and when it ran: CPU is a rate between two passes. */
  readonly previous?: { readonly readings: Readings; readonly atMs: number };
  /** Nodes that did not answer this pass. */
  readonly failedNodes: ReadonlySet<string>;
  readonly custom?: InstanceUsage["custom"];
  /** Bytes used per claim (`namespace/claim`), where the kubelets report volume stats. */
  readonly volumesUsed?: ReadonlyMap<string, number>;
  readonly nowMs: number;
}

type PodUsage = InstanceUsage["perPod"][number];

/** Seconds between two readings of a counter: by their own dates when both have one, else by the passes'. */
function secondsBetween(input: CollectInput, before: PodReading, now: PodReading): number {
  if (before.cpuAtMs !== undefined && now.cpuAtMs !== undefined)
    return (now.cpuAtMs - before.cpuAtMs) / 1000;
  return (input.nowMs - (input.previous?.atMs ?? input.nowMs)) / 1000;
}

/** What a CPU counter is rated against: the last pass's sample, or the one before it when the kubelet kept it. */
function baselineOf(last: PodReading | undefined, now: PodReading): PodReading | undefined {
  return last?.cpuBefore && sameSample(last, now) ? last.cpuBefore : last;
}

function cpuRate(input: CollectInput, pod: PodFacts, reading?: PodReading): number | null {
  const now = reading?.cpuSeconds;
  if (now === undefined || !reading) return null;
  const before = baselineOf(
    input.previous?.readings.get(podKey(input.instance.targetNamespace, pod.name)),
    reading,
  );
  if (before?.cpuSeconds !== undefined && now >= before.cpuSeconds) {
    const seconds = secondsBetween(input, before, reading);
    if (seconds > 0) return (now - before.cpuSeconds) / seconds;
  }
  // First sight of the pod (or a counter reset): its average since it started.
  if (!pod.startTime) return null;
  const up = (input.nowMs - Date.parse(pod.startTime)) / 1000;
  return up > 0 ? now / up : null;
}

const round = (n: number | null, digits: number): number | null =>
  n === null ? null : Number(n.toFixed(digits));

function sumOrNull(values: (number | null)[]): number | null {
  if (values.length === 0) return 0;
  if (values.some((v) => v === null)) return null;
  return values.reduce<number>((a, b) => a + (b ?? 0), 0);
}

/** Why a running pod's figures are missing: its node did not answer, or its kubelet left the pod (or part) out. */
function missingReading(
  input: CollectInput,
  pod: PodFacts,
  reading: PodReading | undefined,
): string | undefined {
  if (!reading)
    return input.failedNodes.has(pod.node)
      ? `pod ${pod.name}: node ${pod.node} did not answer; its usage is missing from the totals`
      : `pod ${pod.name}: the kubelet of ${pod.node} reported no metrics for it`;
  const missing = [
    reading.cpuSeconds === undefined ? "CPU" : "",
    reading.memoryBytes === undefined ? "memory" : "",
    reading.rxBytes === undefined || reading.txBytes === undefined ? "network" : "",
  ].filter(Boolean);
  return missing.length > 0
    ? `pod ${pod.name}: the kubelet of ${pod.node} reported no ${missing.join(" or ")} figure for it this pass`
    : undefined;
}

function podUsage(input: CollectInput, pod: PodFacts, warnings: string[]): PodUsage {
  const reading = input.readings.get(podKey(input.instance.targetNamespace, pod.name));
  const running = pod.phase === "Running";
  const why = running ? missingReading(input, pod, reading) : undefined;
  if (why) warnings.push(why);
  // A pod that does not run uses nothing: zero is a measurement there, not a guess.
  const value = (v: number | undefined): number | null => (running ? (v ?? null) : 0);
  return {
    name: pod.name,
    node: pod.node,
    phase: pod.phase,
    containers: pod.containers,
    cpuCores: running ? round(cpuRate(input, pod, reading), 4) : 0,
    memoryBytes: value(reading?.memoryBytes),
    networkReceiveBytes: value(reading?.rxBytes),
    networkTransmitBytes: value(reading?.txBytes),
  };
}

function quotaOf(input: CollectInput): InstanceUsage["quota"] {
  if (!input.quota) return [];
  return Object.entries(input.quota.hard)
    .map(([resource, hard]) => ({
      resource,
      hard: parseQuantity(hard) ?? Number.NaN,
      used: parseQuantity(input.quota?.used[resource] ?? "0") ?? Number.NaN,
    }))
    .filter((q) => Number.isFinite(q.hard) && Number.isFinite(q.used))
    .sort((a, b) => a.resource.localeCompare(b.resource));
}

/** Used bytes of the instance's claims: null when no kubelet reports any of them (a claim not reported: a warning). */
function storageUsed(
  input: CollectInput,
  claims: readonly string[],
  warnings: string[],
): number | null {
  const used = input.volumesUsed;
  if (!used || claims.length === 0) return null;
  const key = (c: string): string => podKey(input.instance.targetNamespace, c);
  const reported = claims.filter((c) => used.has(key(c)));
  if (reported.length === 0) return null;
  for (const c of claims.filter((c) => !used.has(key(c))))
    warnings.push(
      `claim ${c}: no kubelet reported its volume stats; its used bytes are missing from the total`,
    );
  return reported.reduce((sum, c) => sum + (used.get(key(c)) ?? 0), 0);
}

/** Volume stats from a kubelet's own /metrics: `kubelet_volume_stats_used_bytes` per namespace and claim. */
export function addVolumeSamples(used: Map<string, number>, samples: Sample[]): void {
  for (const s of samples) {
    const { namespace, persistentvolumeclaim: claim } = s.labels;
    if (
      s.name === "kubelet_volume_stats_used_bytes" &&
      namespace &&
      claim &&
      Number.isFinite(s.value)
    )
      used.set(podKey(namespace, claim), s.value);
  }
}

/** One instance's usage from what the cluster and the kubelets said. Pure. */
export function computeUsage(input: CollectInput): InstanceUsage {
  const { instance } = input;
  const warnings: string[] = [];
  const pods = input.pods.filter((p) => belongsTo(p, instance));
  const perPod = pods.map((p) => podUsage(input, p, warnings));
  const claimNames = new Set([
    ...pods.flatMap((p) => p.claims),
    ...instance.inventory.filter((o) => o.kind === "PersistentVolumeClaim").map((o) => o.name),
  ]);
  const bound = input.claims.filter((c) => claimNames.has(c.name));
  const storageBytes = bound.reduce((sum, c) => sum + (parseQuantity(c.capacity) ?? 0), 0);
  const storageUsedBytes = storageUsed(
    input,
    bound.map((c) => c.name),
    warnings,
  );
  return {
    version: 1,
    kind: instance.kind,
    group: instance.group,
    namespace: instance.namespace,
    name: instance.name,
    release: instance.release,
    targetNamespace: instance.targetNamespace,
    collectedAt: new Date(input.nowMs).toISOString(),
    monitorRelationships: instance.monitorRelationships,
    subresources: instance.inventory.length,
    pods: pods.length,
    containers: pods.reduce((n, p) => n + p.containers, 0),
    nodes: new Set(pods.map((p) => p.node).filter(Boolean)).size,
    notRunningPods: pods.filter((p) => p.phase !== "Running" && p.phase !== "Succeeded").length,
    cpuCores: round(sumOrNull(perPod.map((p) => p.cpuCores)), 4),
    memoryBytes: sumOrNull(perPod.map((p) => p.memoryBytes)),
    storageBytes,
    storageUsedBytes,
    networkReceiveBytes: sumOrNull(perPod.map((p) => p.networkReceiveBytes)),
    networkTransmitBytes: sumOrNull(perPod.map((p) => p.networkTransmitBytes)),
    perPod,
    quota: quotaOf(input),
    custom: input.custom ?? [],
    warnings,
  };
}
