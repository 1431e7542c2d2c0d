import type { InstanceUsage } from "@kubeplus/contracts";
import { escapeLabel } from "./prom-text.js";

interface Family {
  readonly name: string;
  readonly type: "gauge" | "counter";
  readonly help: string;
  readonly per: "instance" | "pod";
  readonly value: (u: InstanceUsage, pod?: InstanceUsage["perPod"][number]) => number | null;
}

const FAMILIES: readonly Family[] = [
  {
    name: "kubeplus_instance_subresources",
    type: "gauge",
    help: "Objects of the instance's Helm release.",
    per: "instance",
    value: (u) => u.subresources,
  },
  {
    name: "kubeplus_instance_pods",
    type: "gauge",
    help: "Pods of the instance.",
    per: "instance",
    value: (u) => u.pods,
  },
  {
    name: "kubeplus_instance_containers",
    type: "gauge",
    help: "Containers (init containers included) of the instance's pods.",
    per: "instance",
    value: (u) => u.containers,
  },
  {
    name: "kubeplus_instance_nodes",
    type: "gauge",
    help: "Distinct nodes the instance's pods run on.",
    per: "instance",
    value: (u) => u.nodes,
  },
  {
    name: "kubeplus_instance_not_running_pods",
    type: "gauge",
    help: "Pods of the instance neither Running nor Succeeded.",
    per: "instance",
    value: (u) => u.notRunningPods,
  },
  {
    name: "kubeplus_instance_cpu_usage_cores",
    type: "gauge",
    help: "CPU the instance uses, in cores.",
    per: "instance",
    value: (u) => u.cpuCores,
  },
  {
    name: "kubeplus_instance_memory_working_set_bytes",
    type: "gauge",
    help: "Working-set memory of the instance, in bytes.",
    per: "instance",
    value: (u) => u.memoryBytes,
  },
  {
    name: "kubeplus_instance_storage_capacity_bytes",
    type: "gauge",
    help: "Capacity of the instance's bound volume claims, in bytes.",
    per: "instance",
    value: (u) => u.storageBytes,
  },
  {
    name: "kubeplus_instance_storage_used_bytes",
    type: "gauge",
    help: "Bytes used on the instance's volumes (where the kubelet reports volume stats).",
    per: "instance",
    value: (u) => u.storageUsedBytes,
  },
  {
    name: "kubeplus_instance_network_receive_bytes_total",
    type: "counter",
    help: "Bytes the instance's pods received.",
    per: "instance",
    value: (u) => u.networkReceiveBytes,
  },
  {
    name: "kubeplus_instance_network_transmit_bytes_total",
    type: "counter",
    help: "Bytes the instance's pods transmitted.",
    per: "instance",
    value: (u) => u.networkTransmitBytes,
  },
  {
    name: "kubeplus_pod_cpu_usage_cores",
    type: "gauge",
    help: "CPU one pod of an instance uses, in cores.",
    per: "pod",
    value: (_u, p) => p?.cpuCores ?? null,
  },
  {
    name: "kubeplus_pod_memory_working_set_bytes",
    type: "gauge",
    help: "Working-set memory of one pod of an instance, in bytes.",
    per: "pod",
    value: (_u, p) => p?.memoryBytes ?? null,
  },
  {
    name: "kubeplus_pod_network_receive_bytes_total",
    type: "counter",
    help: "Bytes one pod of an instance received.",
    per: "pod",
    value: (_u, p) => p?.networkReceiveBytes ?? null,
  },
  {
    name: "kubeplus_pod_network_transmit_bytes_total",
    type: "counter",
    help: "Bytes one pod of an instance transmitted.",
    per: "pod",
    value: (_u, p) => p?.networkTransmitBytes ?? null,
  },
];

const labels = (pairs: Record<string, string>): string =>
  `{${Object.entries(pairs)
    .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
    .join(",")}}`;

const base = (u: InstanceUsage): Record<string, string> => ({
  kind: u.kind,
  instance: u.name,
  namespace: u.namespace,
});

function familyLines(f: Family, usages: readonly InstanceUsage[]): string[] {
  const out = [`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.type}`];
  for (const u of usages) {
    const rows =
      f.per === "pod"
        ? u.perPod.map((p) => ({ p, extra: { pod: p.name } }))
        : [{ p: undefined, extra: {} }];
    for (const { p, extra } of rows) {
      const v = f.value(u, p);
      if (v !== null) out.push(`${f.name}${labels({ ...base(u), ...extra })} ${String(v)}`);
    }
  }
  return out;
}

/**
 * The exposition text of `usages`: one series per instance and metric (and per pod for pod series), with HELP and
 * TYPE lines. A figure that was not measured has no sample (Prometheus reads absence, never a fake zero).
 */
export function toPrometheus(usages: readonly InstanceUsage[]): string {
  const out: string[] = FAMILIES.flatMap((f) => familyLines(f, usages));
  out.push(
    "# HELP kubeplus_instance_quota_used Used amount of a resource under the instance namespace's quota (cores, bytes or count).",
    "# TYPE kubeplus_instance_quota_used gauge",
  );
  for (const u of usages)
    for (const q of u.quota)
      out.push(
        `kubeplus_instance_quota_used${labels({ ...base(u), resource: q.resource })} ${String(q.used)}`,
      );
  out.push(
    "# HELP kubeplus_instance_quota_hard Hard limit of a resource in the instance namespace's quota (cores, bytes or count).",
    "# TYPE kubeplus_instance_quota_hard gauge",
  );
  for (const u of usages)
    for (const q of u.quota)
      out.push(
        `kubeplus_instance_quota_hard${labels({ ...base(u), resource: q.resource })} ${String(q.hard)}`,
      );
  out.push(
    "# HELP kubeplus_instance_app_metric An application metric named by the composition's resmonitor.appEndpoints.",
    "# TYPE kubeplus_instance_app_metric gauge",
  );
  for (const u of usages)
    for (const c of u.custom)
      out.push(
        `kubeplus_instance_app_metric${labels({ ...base(u), pod: c.pod, metric: c.name })} ${String(c.value)}`,
      );
  return `${out.join("\n")}\n`;
}

/** The `-o json` form: the original's keys (pods, containers, nodes, notRunningPods, cpu, memory, storage, network*)
 * with explicit units, plus one key per custom metric. */
export function toJson(u: InstanceUsage): Record<string, unknown> {
  const custom = Object.fromEntries(u.custom.map((c) => [c.name, c.value]));
  return {
    kind: u.kind,
    instance: u.name,
    namespace: u.namespace,
    release: `${u.targetNamespace}:${u.release}`,
    collectedAt: u.collectedAt,
    subresources: u.subresources,
    pods: u.pods,
    containers: u.containers,
    nodes: u.nodes,
    notRunningPods: u.notRunningPods,
    cpu: {
      cores: u.cpuCores,
      millicores: u.cpuCores === null ? null : Math.round(u.cpuCores * 1000),
    },
    memory: {
      bytes: u.memoryBytes,
      mebibytes: u.memoryBytes === null ? null : Number((u.memoryBytes / 1024 ** 2).toFixed(2)),
    },
    storage: {
      bytes: u.storageBytes,
      usedBytes: u.storageUsedBytes,
      gibibytes: Number((u.storageBytes / 1024 ** 3).toFixed(3)),
    },
    networkReceiveBytes: u.networkReceiveBytes,
    networkTransmitBytes: u.networkTransmitBytes,
    quota: u.quota,
    perPod: u.perPod,
    ...custom,
    warnings: u.warnings,
  };
}

const show = (v: number | null, unit: (n: number) => string): string =>
  v === null ? "not measured (see warnings)" : unit(v);

/** The `pretty` form, laid out as the original walkthrough shows it. */
export function toPretty(u: InstanceUsage): string {
  const lines = [
    `${u.kind} ${u.name} (release ${u.targetNamespace}:${u.release}, collected ${u.collectedAt})`,
    "---------------------------------------------------------- ",
    "Kubernetes Resources created:",
    `    Number of Sub-resources: ${String(u.subresources)}`,
    `    Number of Pods: ${String(u.pods)}`,
    `        Number of Containers: ${String(u.containers)}`,
    `        Number of Nodes: ${String(u.nodes)}`,
    `        Number of Not Running Pods: ${String(u.notRunningPods)}`,
    "Underlying Physical Resources consumed:",
    `    Total CPU(cores): ${show(u.cpuCores, (n) => `${String(Math.round(n * 1000))}m`)}`,
    `    Total MEMORY(bytes): ${show(u.memoryBytes, (n) => `${(n / 1024 ** 2).toFixed(2)}Mi`)}`,
    `    Total Storage(bytes): ${(u.storageBytes / 1024 ** 3).toFixed(2)}Gi`,
    `    Total Network bytes received: ${show(u.networkReceiveBytes, String)}`,
    `    Total Network bytes transferred: ${show(u.networkTransmitBytes, String)}`,
  ];
  if (u.quota.length > 0) {
    lines.push("Quota (used / hard):");
    for (const q of u.quota) lines.push(`    ${q.resource}: ${String(q.used)} / ${String(q.hard)}`);
  }
  if (u.custom.length > 0) {
    lines.push("Custom metrics:");
    for (const c of u.custom) lines.push(`    ${c.name} (${c.pod}): ${String(c.value)}`);
  }
  for (const w of u.warnings) lines.push(`Warning: ${w}`);
  lines.push("---------------------------------------------------------- ");
  return `${lines.join("\n")}\n`;
}
