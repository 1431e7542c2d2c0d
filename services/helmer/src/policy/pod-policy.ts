import type { Instance, ResourceComposition } from "@kubeplus/api";
import { podSpecOf } from "@kubeplus/charts";

/** What the composition's `podconfig` asks of every pod of an instance, resolved against the instance's spec. */
export interface PodPolicy {
  readonly requests?: Record<string, string>;
  readonly limits?: Record<string, string>;
  readonly nodeSelector?: Record<string, string>;
}

type Obj = Record<string, unknown>;

/** The node label the original's `values.<field>` form pins a tenant to. */
export const HOSTNAME_LABEL = "kubernetes.io/hostname";

function quantities(r?: {
  cpu?: number | string;
  memory?: number | string;
}): Record<string, string> {
  return Object.fromEntries(
    (Object.entries(r ?? {}) as [string, unknown][])
      .filter(([, v]) => v !== undefined && v !== "")
      .map(([k, v]) => [k, String(v)]),
  );
}

/**
 * `values.<field>`: the node named by that field of the instance's spec (no pinning when the field is empty);
 * `key=value`: a literal node label.
 */
function nodeSelectorFor(
  selector: string | undefined,
  spec: Obj,
): Record<string, string> | undefined {
  if (!selector) return undefined;
  if (selector.startsWith("values.")) {
    const node = spec[selector.slice("values.".length)];
    return typeof node === "string" && node !== "" ? { [HOSTNAME_LABEL]: node } : undefined;
  }
  const at = selector.indexOf("=");
  if (at <= 0) return undefined;
  return { [selector.slice(0, at).trim()]: selector.slice(at + 1).trim() };
}

/** Decides the pod policy of one instance. */
export function podPolicyFor(rc: ResourceComposition, instance: Instance): PodPolicy {
  const pod = rc.spec.respolicy?.spec?.policy?.podconfig;
  const requests = quantities(pod?.requests);
  const limits = quantities(pod?.limits);
  const nodeSelector = nodeSelectorFor(pod?.nodeSelector, instance.spec);
  return {
    ...(Object.keys(requests).length ? { requests } : {}),
    ...(Object.keys(limits).length ? { limits } : {}),
    ...(nodeSelector ? { nodeSelector } : {}),
  };
}

export function isEmptyPolicy(p: PodPolicy): boolean {
  return !p.requests && !p.limits && !p.nodeSelector;
}

/**
 * The policy's requests and limits for the resources (cpu, memory) a container leaves entirely unset: one that
 * sets either a request or a limit for a resource keeps its own, so the policy never makes a request exceed a limit
 * the chart chose.
 */
function missingResources(
  requests: Obj,
  limits: Obj,
  policy: PodPolicy,
): { requests: Obj; limits: Obj } {
  const add = { requests: {} as Obj, limits: {} as Obj };
  const names = new Set([
    ...Object.keys(policy.requests ?? {}),
    ...Object.keys(policy.limits ?? {}),
  ]);
  for (const name of names) {
    if (requests[name] !== undefined || limits[name] !== undefined) continue;
    const request = policy.requests?.[name];
    const limit = policy.limits?.[name];
    if (request !== undefined) add.requests[name] = request;
    if (limit !== undefined) add.limits[name] = limit;
  }
  return add;
}

/** A container with the policy filled into its resources. */
function withResources(container: Obj, policy: PodPolicy): Obj {
  const resources = (container.resources ?? {}) as { requests?: Obj; limits?: Obj };
  const add = missingResources(resources.requests ?? {}, resources.limits ?? {}, policy);
  const requests = { ...resources.requests, ...add.requests };
  const limits = { ...resources.limits, ...add.limits };
  return {
    ...container,
    resources: {
      ...resources,
      ...(Object.keys(requests).length ? { requests } : {}),
      ...(Object.keys(limits).length ? { limits } : {}),
    },
  };
}

/** One object with the policy applied to its pod template (objects without pods come back unchanged). */
export function applyPodPolicy(object: Obj, policy: PodPolicy): Obj {
  const copy = structuredClone(object);
  const pod = podSpecOf(copy);
  if (!pod) return copy;
  const spec = pod.spec;
  for (const field of ["initContainers", "containers"]) {
    const list = spec[field];
    if (Array.isArray(list)) spec[field] = list.map((c) => withResources(c as Obj, policy));
  }
  if (policy.nodeSelector)
    spec.nodeSelector = { ...(spec.nodeSelector as Obj | undefined), ...policy.nodeSelector };
  return copy;
}
