import { describe, expect, it } from "vitest";
import {
  accumulate,
  RECENT_POINTS,
  addNodeSamples,
  CARRY_COUNTER_MS,
  carryCounters,
  addVolumeSamples,
  computeUsage,
  parsePrometheusText,
  toJson,
  toPrometheus,
  toPretty,
  type InstanceFacts,
  type PodFacts,
  type Readings,
} from "./index.js";

const T0 = Date.parse("2026-11-24T10:00:00Z");

function kubelet(
  cpu: Record<string, number>,
  mem: Record<string, number>,
  atMs: number | null = 1795500000000,
): string {
  const lines = ["# TYPE pod_cpu_usage_seconds_total counter", "scrape_error 0"];
  const stamp = atMs === null ? "" : ` ${String(atMs)}`;
  for (const [pod, v] of Object.entries(cpu))
    lines.push(`pod_cpu_usage_seconds_total{namespace="wp1",pod="${pod}"} ${String(v)}${stamp}`);
  for (const [pod, v] of Object.entries(mem))
    lines.push(`pod_memory_working_set_bytes{namespace="wp1",pod="${pod}"} ${String(v)}`);
  return lines.join("\n");
}

const cadvisor = [
  'container_network_receive_bytes_total{interface="eth0",namespace="wp1",pod="web-7d9-x"} 1000',
  'container_network_receive_bytes_total{interface="eth1",namespace="wp1",pod="web-7d9-x"} 24',
  'container_network_transmit_bytes_total{interface="eth0",namespace="wp1",pod="web-7d9-x"} 2000',
  'container_network_receive_bytes_total{interface="eth0",namespace="wp1",pod="db-0"} 5',
  'container_network_transmit_bytes_total{interface="eth0",namespace="wp1",pod="db-0"} 6',
  'container_network_receive_bytes_total{interface="eth0",namespace="other",pod="db-0"} 999999',
].join("\n");

const pods: PodFacts[] = [
  {
    name: "web-7d9-x",
    node: "n1",
    phase: "Running",
    containers: 2,
    labels: { "pod-template-hash": "7d9" },
    owner: { kind: "ReplicaSet", name: "web-7d9" },
    startTime: new Date(T0 - 100_000).toISOString(),
    claims: ["uploads"],
  },
  {
    name: "db-0",
    node: "n2",
    phase: "Running",
    containers: 1,
    labels: {},
    owner: { kind: "StatefulSet", name: "db" },
    startTime: new Date(T0 - 100_000).toISOString(),
    claims: ["data-db-0"],
  },
  // Another release's pod in the same namespace: not ours under `owner`.
  { name: "stray", node: "n1", phase: "Pending", containers: 1, labels: {}, claims: [] },
];

const instance: InstanceFacts = {
  kind: "WordpressService",
  group: "platformapi.kubeplus",
  namespace: "kubeplus",
  name: "wp1",
  release: "wordpressservice-wp1",
  targetNamespace: "wp1",
  inventory: [
    { kind: "Deployment", name: "web" },
    { kind: "StatefulSet", name: "db" },
    { kind: "Service", name: "web" },
    { kind: "PersistentVolumeClaim", name: "uploads" },
  ],
  monitorRelationships: "owner",
  serviceSelectors: [],
};

/** One node's answer; `stampMs` is the kubelet's sample timestamp (null: none), `receivedAtMs` when it arrived. */
function readings(
  cpu: Record<string, number>,
  at: { stampMs?: number | null; receivedAtMs?: number } = {},
): Readings {
  const r: Readings = new Map();
  const mem = { "web-7d9-x": 64 * 1024 ** 2, "db-0": 32 * 1024 ** 2 };
  addNodeSamples(
    r,
    parsePrometheusText(kubelet(cpu, mem, at.stampMs ?? null)),
    parsePrometheusText(cadvisor),
    at.receivedAtMs,
  );
  return r;
}

function usageAt(
  seconds: number,
  failedNodes: string[] = [],
  volumesUsed?: ReadonlyMap<string, number>,
) {
  const first = readings({ "web-7d9-x": 10, "db-0": 4 });
  return computeUsage({
    instance,
    pods,
    claims: [
      { name: "uploads", capacity: "1Gi" },
      { name: "data-db-0", capacity: "2Gi" },
      { name: "someone-elses", capacity: "5Gi" },
    ],
    quota: {
      hard: { "requests.cpu": "2", "requests.memory": "4Gi" },
      used: { "requests.cpu": "350m" },
    },
    // 250m and 100m over `seconds`: the counters grew by 0.25*s and 0.1*s.
    readings: readings({ "web-7d9-x": 10 + 0.25 * seconds, "db-0": 4 + 0.1 * seconds }),
    previous: { readings: first, atMs: T0 },
    failedNodes: new Set(failedNodes),
    nowMs: T0 + seconds * 1000,
    ...(volumesUsed ? { volumesUsed } : {}),
  });
}

describe("kubelet text", () => {
  it("parses names, labels, values and timestamps, skipping comments", () => {
    const samples = parsePrometheusText(kubelet({ a: 1.5 }, {}));
    expect(samples).toEqual([
      { name: "scrape_error", labels: {}, value: 0 },
      {
        name: "pod_cpu_usage_seconds_total",
        labels: { namespace: "wp1", pod: "a" },
        value: 1.5,
        timestampMs: 1795500000000,
      },
    ]);
  });
});

describe("computeUsage", () => {
  it("adds up the instance's own pods: 250m + 100m is 0.35 cores, and another namespace does not leak in", () => {
    const u = usageAt(30);
    expect(u.cpuCores).toBe(0.35);
    expect(u.memoryBytes).toBe(96 * 1024 ** 2);
    expect(u.networkReceiveBytes).toBe(1000 + 24 + 5);
    expect(u.networkTransmitBytes).toBe(2006);
    expect(u.storageBytes).toBe(3 * 1024 ** 3);
    expect(u).toMatchObject({
      pods: 2,
      containers: 3,
      nodes: 2,
      notRunningPods: 0,
      subresources: 4,
    });
    expect(u.quota).toEqual([
      { resource: "requests.cpu", used: 0.35, hard: 2 },
      { resource: "requests.memory", used: 0, hard: 4 * 1024 ** 3 },
    ]);
    expect(u.warnings).toEqual([]);
  });

  it("dates CPU counters by the kubelet's timestamps, else by when each node answered, not by the pass", () => {
    // The passes are 30 s apart, but the node was read 20 s apart: 250m over 20 s is 5 s of CPU.
    const twoPasses = (at: (ms: number) => { stampMs?: number; receivedAtMs?: number }) =>
      computeUsage({
        instance,
        pods,
        claims: [],
        readings: readings({ "web-7d9-x": 15, "db-0": 6 }, at(T0 + 25_000)),
        previous: { readings: readings({ "web-7d9-x": 10, "db-0": 4 }, at(T0 + 5_000)), atMs: T0 },
        failedNodes: new Set(),
        nowMs: T0 + 30_000,
      }).cpuCores;
    expect(twoPasses((ms) => ({ stampMs: ms, receivedAtMs: ms + 3_000 }))).toBe(0.35);
    expect(twoPasses((ms) => ({ receivedAtMs: ms }))).toBe(0.35);
    // With neither, the passes' own times are all there is: 7 s of CPU over 30 s.
    expect(twoPasses(() => ({}))).toBeCloseTo(7 / 30, 3);
  });

  it("rates a CPU counter the kubelet has not refreshed since the last pass over its last two samples, not since the pod started", () => {
    // A real kubelet refreshes pod CPU every 10-20 s (cAdvisor housekeeping); passes every few seconds mostly see
    // the sample the pass before saw. Pods started 100 s before T0 and run at 250m and 100m.
    const pass1 = readings({ "web-7d9-x": 10, "db-0": 4 }, { stampMs: T0 - 1_000 });
    const pass2 = readings({ "web-7d9-x": 12.5, "db-0": 5 }, { stampMs: T0 + 9_000 });
    const usage = (now: Readings, previous: Readings, nowMs: number) =>
      computeUsage({
        instance,
        pods,
        claims: [],
        readings: now,
        previous: { readings: previous, atMs: nowMs - 2_000 },
        failedNodes: new Set(),
        nowMs,
      }).cpuCores;
    expect(usage(pass2, pass1, T0 + 10_000)).toBe(0.35);
    const kept = carryCounters({ readings: pass1, atMs: T0 }, pass2, T0 + 10_000);
    // The same sample again (same timestamp and value): still 0.35 cores, not 17.5 s of CPU over 112 s.
    const again = readings({ "web-7d9-x": 12.5, "db-0": 5 }, { stampMs: T0 + 9_000 });
    expect(usage(again, kept, T0 + 12_000)).toBe(0.35);
    // And again: the earlier sample is carried as long as the kubelet's sample does not change.
    const keptAgain = carryCounters({ readings: kept, atMs: T0 + 10_000 }, again, T0 + 12_000);
    expect(usage(again, keptAgain, T0 + 14_000)).toBe(0.35);
    // A fresh sample is rated against the one before it: web at 500m from T0+9 s to T0+19 s.
    const fresh = readings({ "web-7d9-x": 17.5, "db-0": 6 }, { stampMs: T0 + 19_000 });
    expect(usage(fresh, keptAgain, T0 + 20_000)).toBe(0.6);
  });

  it("keeps a pod's last CPU counter through a pass its kubelet left it out of, for a while", () => {
    // db-0 ran at 100m; pass 2 (T0+30 s) had no CPU figure for it. Pass 3 (T0+60 s) rates it against pass 1's
    // counter, not against its average since it started (4 s of CPU over 100 s: 40m).
    const pass1 = readings({ "web-7d9-x": 10, "db-0": 4 }, { receivedAtMs: T0 });
    const pass2 = carryCounters(
      { readings: pass1, atMs: T0 },
      readings({ "web-7d9-x": 17.5 }, { receivedAtMs: T0 + 30_000 }),
      T0 + 30_000,
    );
    expect(pass2.get("wp1/db-0")).toMatchObject({ cpuSeconds: 4, cpuAtMs: T0 });
    const pass3 = computeUsage({
      instance,
      pods,
      claims: [],
      readings: readings({ "web-7d9-x": 25, "db-0": 10 }, { receivedAtMs: T0 + 60_000 }),
      previous: { readings: pass2, atMs: T0 + 30_000 },
      failedNodes: new Set(),
      nowMs: T0 + 60_000,
    });
    expect(pass3.perPod.map((p) => [p.name, p.cpuCores])).toEqual([
      ["web-7d9-x", 0.25],
      ["db-0", 0.1],
    ]);
    // A counter older than CARRY_COUNTER_MS is dropped (a pod long gone, or one measured from its start again).
    const later = T0 + CARRY_COUNTER_MS + 1;
    expect(carryCounters({ readings: pass1, atMs: T0 }, new Map(), later).has("wp1/db-0")).toBe(
      false,
    );
  });

  it("adds the used bytes the kubelets report for the instance's claims, and says which claim they did not", () => {
    const used = new Map<string, number>();
    addVolumeSamples(
      used,
      parsePrometheusText(
        [
          "# TYPE kubelet_volume_stats_used_bytes gauge",
          'kubelet_volume_stats_used_bytes{namespace="wp1",persistentvolumeclaim="uploads"} 1048576',
          'kubelet_volume_stats_used_bytes{namespace="wp2",persistentvolumeclaim="data-db-0"} 999',
          'kubelet_volume_stats_used_bytes{namespace="wp1",persistentvolumeclaim=""} 0',
        ].join("\n"),
      ),
    );
    const u = usageAt(30, [], used);
    expect(u.storageUsedBytes).toBe(1048576);
    expect(u.warnings).toEqual([
      "claim data-db-0: no kubelet reported its volume stats; its used bytes are missing from the total",
    ]);
    expect(usageAt(30).storageUsedBytes).toBeNull();
    expect(usageAt(30, [], new Map()).warnings).toEqual([]);
  });

  it("takes related pods too under monitorRelationships all", () => {
    const u = computeUsage({
      instance: { ...instance, monitorRelationships: "all", serviceSelectors: [{ app: "stray" }] },
      pods: pods.map((p) => (p.name === "stray" ? { ...p, labels: { app: "stray" } } : p)),
      claims: [],
      readings: readings({}),
      failedNodes: new Set(),
      nowMs: T0,
    });
    expect(u).toMatchObject({ pods: 3, notRunningPods: 1 });
  });

  it("reports a node that did not answer as missing figures with a warning, never as zero", () => {
    const u = computeUsage({
      instance,
      pods,
      claims: [],
      readings: new Map(),
      failedNodes: new Set(["n1", "n2"]),
      nowMs: T0,
    });
    expect(u.cpuCores).toBeNull();
    expect(u.memoryBytes).toBeNull();
    expect(u.warnings).toEqual([
      "pod web-7d9-x: node n1 did not answer; its usage is missing from the totals",
      "pod db-0: node n2 did not answer; its usage is missing from the totals",
    ]);
    expect(toPretty(u)).toContain("Total CPU(cores): not measured (see warnings)");
    expect(toPrometheus([u])).not.toContain("kubeplus_instance_cpu_usage_cores{");
  });

  it("says which pod's CPU or memory figure a kubelet left out, and shows it as not measured", () => {
    const partial = readings({ "db-0": 4 });
    const u = computeUsage({
      instance,
      pods,
      claims: [],
      readings: partial,
      failedNodes: new Set(),
      nowMs: T0,
    });
    expect(u.cpuCores).toBeNull();
    expect(u.warnings).toEqual([
      "pod web-7d9-x: the kubelet of n1 reported no CPU figure for it this pass",
    ]);
  });

  it("uses a pod's average since it started on the first pass", () => {
    const u = computeUsage({
      instance,
      pods,
      claims: [],
      readings: readings({ "web-7d9-x": 25, "db-0": 10 }),
      failedNodes: new Set(),
      nowMs: T0,
    });
    expect(u.cpuCores).toBe(0.35); // 25 s and 10 s of CPU over 100 s of life
  });
});

describe("renderings", () => {
  it("exposes one series per instance and metric, with units in names, HELP and TYPE", () => {
    const text = toPrometheus([usageAt(30)]);
    expect(text).toContain("# TYPE kubeplus_instance_network_receive_bytes_total counter");
    expect(text).toContain(
      'kubeplus_instance_cpu_usage_cores{kind="WordpressService",instance="wp1",namespace="kubeplus"} 0.35',
    );
    expect(text).toContain(
      'kubeplus_pod_memory_working_set_bytes{kind="WordpressService",instance="wp1",namespace="kubeplus",pod="db-0"} 33554432',
    );
    expect(text).toContain(
      'kubeplus_instance_quota_hard{kind="WordpressService",instance="wp1",namespace="kubeplus",resource="requests.cpu"} 2',
    );
  });

  it("keeps the original's JSON keys, with numbers and units", () => {
    const json = toJson(usageAt(30));
    expect(json).toMatchObject({
      pods: 2,
      containers: 3,
      nodes: 2,
      notRunningPods: 0,
      cpu: { cores: 0.35, millicores: 350 },
      memory: { bytes: 96 * 1024 ** 2, mebibytes: 96 },
      storage: { bytes: 3 * 1024 ** 3 },
      networkReceiveBytes: 1029,
      networkTransmitBytes: 2006,
    });
  });
});

describe("daily usage records", () => {
  it("integrates gauges over time, counts counter increases, and survives a counter reset", () => {
    const u1 = { ...usageAt(30), collectedAt: "2026-11-24T10:00:00.000Z" };
    let record = accumulate({ days: [] }, u1, 90);
    expect(record.days[0]).toMatchObject({ date: "2026-11-24", cpuCoreSeconds: 0 });
    const u2 = { ...u1, collectedAt: "2026-11-24T10:00:30.000Z", networkReceiveBytes: 2029 };
    record = accumulate(record, u2, 90);
    expect(record.days[0]?.cpuCoreSeconds).toBeCloseTo(0.35 * 30);
    expect(record.days[0]?.networkReceiveBytes).toBe(1000);
    // The pods restarted: the counter went back to 100, which is all new traffic.
    const u3 = { ...u1, collectedAt: "2026-11-24T10:01:00.000Z", networkReceiveBytes: 100 };
    record = accumulate(record, u3, 90);
    expect(record.days[0]?.networkReceiveBytes).toBe(1100);
    // A collector that was down for an hour does not bill the hour at the last rate.
    const u4 = { ...u1, collectedAt: "2026-11-24T11:01:00.000Z", networkReceiveBytes: 100 };
    record = accumulate(record, u4, 90);
    expect(record.days[0]?.cpuCoreSeconds).toBeCloseTo(0.35 * (30 + 30 + 90));
  });

  it("bills a pass whose CPU or memory was not measured as a gap, covered by the next pass that measures it", () => {
    const u1 = { ...usageAt(30), collectedAt: "2026-11-24T10:00:00.000Z" };
    let record = accumulate({ days: [] }, u1, 90);
    const missed = { ...u1, collectedAt: "2026-11-24T10:00:30.000Z", cpuCores: null };
    record = accumulate(record, missed, 90);
    expect(record.days[0]?.cpuCoreSeconds).toBe(0);
    expect(record.days[0]?.memoryByteSeconds).toBe(96 * 1024 ** 2 * 30);
    record = accumulate(record, { ...u1, collectedAt: "2026-11-24T10:01:00.000Z" }, 90);
    // 60 s since CPU was last measured, not 30: the missed pass is not a half-minute of zero use.
    expect(record.days[0]?.cpuCoreSeconds).toBeCloseTo(0.35 * 60);
    expect(record.days[0]?.memoryByteSeconds).toBe(96 * 1024 ** 2 * 60);
  });

  it("keeps the latest passes for the charts: gauges as measured, network as rates, at most RECENT_POINTS", () => {
    const u1 = {
      ...usageAt(30),
      collectedAt: "2026-11-24T10:00:00.000Z",
      networkReceiveBytes: 1000,
    };
    let record = accumulate({ days: [] }, u1, 90);
    expect(record.recent).toEqual([
      {
        at: "2026-11-24T10:00:00.000Z",
        cpuCores: 0.35,
        memoryBytes: 96 * 1024 ** 2,
        storageBytes: 3 * 1024 ** 3,
        receiveBytesPerSecond: null,
        transmitBytesPerSecond: null,
      },
    ]);
    record = accumulate(
      record,
      { ...u1, collectedAt: "2026-11-24T10:00:20.000Z", networkReceiveBytes: 3000, cpuCores: null },
      90,
    );
    expect(record.recent?.[1]).toMatchObject({ cpuCores: null, receiveBytesPerSecond: 100 });
    // After a gap longer than the collector's limit there is no rate to show, not a made-up one.
    record = accumulate(
      record,
      { ...u1, collectedAt: "2026-11-24T11:00:00.000Z", networkReceiveBytes: 9000 },
      90,
    );
    expect(record.recent?.[2]?.receiveBytesPerSecond).toBeNull();
    for (let i = 1; i <= RECENT_POINTS; i++)
      record = accumulate(
        record,
        {
          ...u1,
          collectedAt: new Date(Date.parse("2026-11-24T11:00:00.000Z") + i * 60_000).toISOString(),
        },
        90,
      );
    expect(record.recent).toHaveLength(RECENT_POINTS);
    expect(record.recent?.[0]?.at).toBe("2026-11-24T11:01:00.000Z");
  });
});
