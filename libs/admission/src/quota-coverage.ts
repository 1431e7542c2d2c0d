import type { FieldError } from "./result.js";

interface Resources {
  requests?: Record<string, unknown>;
  limits?: Record<string, unknown>;
}
interface Container {
  name?: unknown;
  resources?: Resources;
}
interface PodSpecLike {
  containers?: Container[];
  initContainers?: Container[];
}
interface Rendered {
  kind?: unknown;
  metadata?: { name?: unknown };
  spec?: {
    containers?: Container[];
    initContainers?: Container[];
    template?: { spec?: PodSpecLike };
    jobTemplate?: { spec?: { template?: { spec?: PodSpecLike } } };
    limits?: {
      type?: unknown;
      default?: Record<string, unknown>;
      defaultRequest?: Record<string, unknown>;
    }[];
  };
}

const QUOTA_KEYS = ["requests.cpu", "requests.memory", "limits.cpu", "limits.memory"] as const;
type QuotaKey = (typeof QUOTA_KEYS)[number];
const WORKLOADS = new Set(["Deployment", "StatefulSet", "ReplicaSet", "DaemonSet", "Job"]);

/** The defaults a container without its own resources gets: podconfig's, or a LimitRange's in the chart. */
export interface ContainerDefaults {
  readonly requests: ReadonlySet<string>;
  readonly limits: ReadonlySet<string>;
}

function podSpecOf(o: Rendered): PodSpecLike | undefined {
  if (o.kind === "Pod") return o.spec;
  if (o.kind === "CronJob") return o.spec?.jobTemplate?.spec?.template?.spec;
  return WORKLOADS.has(String(o.kind)) ? o.spec?.template?.spec : undefined;
}

const nameOf = (v: unknown): string => (typeof v === "string" ? v : "?");
const given = (r: Record<string, unknown> | undefined, what: string): boolean =>
  r?.[what] !== undefined && r[what] !== null && r[what] !== "";

/**
 * Whether the container ends up with a value for the quota key: its own; for a request, its own limit too (the
 * apiserver copies a limit into a missing request); else the LimitRange default (a default limit also serves as
 * the default request).
 */
function covered(c: Container, key: QuotaKey, defaults: ContainerDefaults): boolean {
  const [kind, what] = key.split(".") as ["requests" | "limits", string];
  const own = c.resources ?? {};
  if (kind === "limits") return given(own.limits, what) || defaults.limits.has(what);
  return (
    given(own.requests, what) ||
    given(own.limits, what) ||
    defaults.requests.has(what) ||
    defaults.limits.has(what)
  );
}

/** podconfig's requests and limits, and those of any Container LimitRange the chart brings. */
export function containerDefaults(
  objects: readonly Rendered[],
  podconfig: Resources | undefined,
): ContainerDefaults {
  const requests = new Set<string>();
  const limits = new Set<string>();
  const add = (into: Set<string>, r: Record<string, unknown> | undefined): void => {
    for (const what of ["cpu", "memory"]) if (given(r, what)) into.add(what);
  };
  add(requests, podconfig?.requests);
  add(limits, podconfig?.limits);
  for (const o of objects) {
    if (o.kind !== "LimitRange") continue;
    for (const l of o.spec?.limits ?? []) {
      if (l.type !== "Container") continue;
      add(requests, l.defaultRequest);
      add(limits, l.default);
    }
  }
  return { requests, limits };
}

/**
 * Under a ResourceQuota on requests and limits, Kubernetes refuses every pod whose containers do not give a value
 * for each quota'd resource ("must specify ..."), so an instance of such a chart never starts. Refused at admission
 * (crd-hook and the helmer), naming each container and what it lacks, when a container of the chart's default
 * render gives none of them and nothing gives it a default.
 */
export function quotaCoverageErrors(
  objects: readonly Rendered[],
  quota: Record<string, unknown> | undefined,
  podconfig: Resources | undefined,
): FieldError[] {
  // The helmer makes the ResourceQuota only from all four values (fewer are refused on their own).
  if (!QUOTA_KEYS.every((k) => given(quota, k))) return [];
  const keys = QUOTA_KEYS;
  const defaults = containerDefaults(objects, podconfig);
  const lacking: string[] = [];
  for (const o of objects) {
    const spec = podSpecOf(o);
    if (!spec) continue;
    const id = `${String(o.kind)}/${nameOf(o.metadata?.name)}`;
    for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
      const missing = keys.filter((k) => !covered(c, k, defaults));
      if (missing.length > 0)
        lacking.push(`${id} container ${nameOf(c.name)} (no ${missing.join(", ")})`);
    }
  }
  if (lacking.length === 0) return [];
  return [
    {
      path: "spec.respolicy.spec.policy.quota",
      detail: `every instance gets a ResourceQuota on ${keys.join(", ")}, and Kubernetes refuses each pod whose containers do not set them; with the chart's default values these containers set none and get no default, so their pods would never start: ${lacking.join("; ")}. Add spec.respolicy.spec.policy.podconfig with requests and limits for cpu and memory (KubePlus gives them to such containers as LimitRange defaults), or put a LimitRange with defaults in the chart, or set resources on these containers`,
    },
  ];
}
