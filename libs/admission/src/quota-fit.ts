import { parseQuantity } from "@kubeplus/api";

interface Resources {
  requests?: Record<string, unknown>;
  limits?: Record<string, unknown>;
}
interface PodSpecLike {
  containers?: { resources?: Resources }[];
}
interface Rendered {
  kind?: unknown;
  spec?: {
    replicas?: unknown;
    containers?: PodSpecLike["containers"];
    template?: { spec?: PodSpecLike };
  };
}

const WORKLOADS = new Set(["Deployment", "StatefulSet", "ReplicaSet", "Job"]);
const QUOTA_KEYS = ["requests.cpu", "requests.memory", "limits.cpu", "limits.memory"] as const;

/** The pods a rendered object runs with the chart's defaults, and their pod spec. */
function podsOf(o: Rendered): { count: number; spec: PodSpecLike } | undefined {
  if (o.kind === "Pod") return { count: 1, spec: { containers: o.spec?.containers ?? [] } };
  if (!WORKLOADS.has(String(o.kind)) || !o.spec?.template?.spec) return undefined;
  const replicas = typeof o.spec.replicas === "number" ? o.spec.replicas : 1;
  return { count: replicas, spec: o.spec.template.spec };
}

/** What one container counts against the quota: its own value, else the LimitRange default from podconfig. */
function containerAmount(
  c: { resources?: Resources },
  key: (typeof QUOTA_KEYS)[number],
  podconfig: Resources,
): number {
  const [kind, resource] = key.split(".") as ["requests" | "limits", string];
  const own = c.resources?.[kind]?.[resource];
  const fallback = podconfig[kind]?.[resource];
  const value = own ?? fallback;
  return typeof value === "string" || typeof value === "number" ? (parseQuantity(value) ?? 0) : 0;
}

/**
 * Warnings when the chart, with its default values, would need more than the composition's quota: every container
 * without its own requests or limits gets podconfig's as LimitRange defaults, and counts against the quota, so such
 * an instance would never start all its pods. The walkthrough's own composition is one (100m CPU for two pods of
 * 100m each). A warning, not a refusal: instance values may lower replicas.
 */
export function quotaFitWarnings(
  objects: readonly Rendered[],
  quota: Record<string, unknown> | undefined,
  podconfig: Resources | undefined,
): string[] {
  if (!quota) return [];
  const pods = objects.map(podsOf).filter((p) => p !== undefined);
  const count = pods.reduce((n, p) => n + p.count, 0);
  const warnings: string[] = [];
  for (const key of QUOTA_KEYS) {
    const hard = quota[key];
    const limit =
      typeof hard === "string" || typeof hard === "number" ? parseQuantity(hard) : undefined;
    if (limit === undefined) continue;
    const needed = pods.reduce(
      (sum, p) =>
        sum +
        p.count *
          (p.spec.containers ?? []).reduce(
            (s, c) => s + containerAmount(c, key, podconfig ?? {}),
            0,
          ),
      0,
    );
    if (needed > limit * 1.0000001)
      warnings.push(
        `spec.respolicy.spec.policy.quota.${key}: the chart's ${count} pod(s) need ${format(needed, key)} with their default values (containers without their own ${key.split(".")[0]} get podconfig's), more than the quota's ${String(hard)}; instances would not start all their pods: raise the quota or lower podconfig`,
      );
  }
  return warnings;
}

function format(value: number, key: string): string {
  if (key.endsWith("cpu"))
    return value < 1 ? `${Math.round(value * 1000)}m CPU` : `${+value.toFixed(3)} CPU`;
  return `${+(value / 2 ** 20).toFixed(1)}Mi memory`;
}
