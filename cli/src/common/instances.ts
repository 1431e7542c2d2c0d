import type { KubeConfig } from "@kubernetes/client-node";
import {
  ConditionType,
  DEFAULT_GENERATED_GROUP,
  findCondition,
  instanceNamespaceName,
} from "@kubeplus/api";
import { kubeRequest, KubeRequestError } from "@kubeplus/kube";

/** A generated kind as discovery serves it. */
export interface KindInfo {
  readonly kind: string;
  readonly group: string;
  readonly version: string;
  readonly plural: string;
}

/** An instance of a generated kind, as the apiserver returns it (the fields the plugins read). */
export interface InstanceObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace: string;
    uid?: string;
    annotations?: Record<string, string>;
  };
  spec?: Record<string, unknown>;
  status?: {
    helmrelease?: string;
    namespace?: string;
    observedGeneration?: number;
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
    inventory?: { apiVersion: string; kind: string; name: string; namespace: string }[];
    chart?: { ref?: string; version?: string };
  };
}

interface GroupList {
  groups: { name: string; preferredVersion: { groupVersion: string; version: string } }[];
}
interface ResourceList {
  resources: { name: string; kind: string; namespaced: boolean }[];
}

/** Kubernetes' own groups: never where a generated kind lives, so not searched. */
function isBuiltInGroup(name: string): boolean {
  return name.endsWith(".k8s.io") || !name.includes(".") || name === "workflows.kubeplus";
}

/**
 * Finds the generated kind (case-insensitive, kind or plural) through discovery, which every identity may read:
 * platformapi.kubeplus first, then any other non-built-in group.
 */
export async function resolveKind(kc: KubeConfig, kind: string): Promise<KindInfo> {
  const groups = ((await kubeRequest(kc, "GET", "/apis")) as GroupList).groups
    .filter((g) => !isBuiltInGroup(g.name))
    .sort(
      (a, b) =>
        Number(b.name === DEFAULT_GENERATED_GROUP) - Number(a.name === DEFAULT_GENERATED_GROUP),
    );
  const wanted = kind.toLowerCase();
  for (const g of groups) {
    const list = (await kubeRequest(
      kc,
      "GET",
      `/apis/${g.preferredVersion.groupVersion}`,
    )) as ResourceList;
    const found = list.resources.find(
      (r) => !r.name.includes("/") && (r.kind.toLowerCase() === wanted || r.name === wanted),
    );
    if (found)
      return {
        kind: found.kind,
        group: g.name,
        version: g.preferredVersion.version,
        plural: found.name,
      };
  }
  throw new Error(
    `unknown kind "${kind}": no KubePlus API serves it (kubectl get resourcecompositions -A lists the registered ones)`,
  );
}

function instancePath(k: KindInfo, namespace: string, name: string): string {
  return `/apis/${k.group}/${k.version}/namespaces/${namespace}/${k.plural}/${name}`;
}

/**
 * The instance named `name`: in the namespace given, else in the kubeconfig's context namespace, else the only one of
 * that name cluster-wide (when the kubeconfig may list them).
 */
export async function findInstance(
  kc: KubeConfig,
  k: KindInfo,
  name: string,
  namespace?: string,
): Promise<InstanceObject> {
  const context = kc.getContextObject(kc.getCurrentContext())?.namespace ?? "default";
  const where = namespace ?? context;
  try {
    return (await kubeRequest(kc, "GET", instancePath(k, where, name))) as InstanceObject;
  } catch (err) {
    if (!(err instanceof KubeRequestError) || err.code !== 404 || namespace)
      throw explain(err, k, name, where);
  }
  const all = (await kubeRequest(
    kc,
    "GET",
    `/apis/${k.group}/${k.version}/${k.plural}?fieldSelector=${encodeURIComponent(`metadata.name=${name}`)}`,
  ).catch(() => ({ items: [] }))) as { items: InstanceObject[] };
  if (all.items.length === 1 && all.items[0]) return all.items[0];
  if (all.items.length > 1)
    throw new Error(
      `${all.items.length} ${k.kind}s are named ${name} (namespaces ${all.items.map((i) => i.metadata.namespace).join(", ")}): give the namespace`,
    );
  throw new Error(`no ${k.kind} named ${name} in namespace ${where}`);
}

function explain(err: unknown, k: KindInfo, name: string, namespace: string): Error {
  if (err instanceof KubeRequestError && err.code === 404)
    return new Error(`no ${k.kind} named ${name} in namespace ${namespace}`);
  if (err instanceof KubeRequestError && err.code === 403)
    return new Error(`this kubeconfig may not read ${k.plural} in namespace ${namespace}`);
  return err as Error;
}

/**
 * The namespace an instance's release lives in, as the helmer recorded it: `status.namespace`, else the namespace of
 * `status.helmrelease` (`<namespace>:<release>`, written by helmers before `status.namespace`); an instance the helmer
 * has not reported on yet: the namespace it will get (@kubeplus/api instanceNamespaceName).
 */
export function releaseNamespaceOf(instance: InstanceObject): string {
  const recorded = [instance.status?.namespace, instance.status?.helmrelease?.split(":")[0]].find(
    (ns) => ns !== undefined && ns !== "",
  );
  if (recorded !== undefined) return recorded;
  return instance.metadata.uid
    ? instanceNamespaceName({ name: instance.metadata.name, uid: instance.metadata.uid })
    : instance.metadata.name;
}

/** `Ready` (or the reason it is not), as a STATUS column shows it. */
export function readinessOf(instance: InstanceObject): string {
  const ready = findCondition(instance.status?.conditions, ConditionType.Ready);
  if (!ready) return "Pending";
  return ready.status === "True" ? "Ready" : (ready.reason ?? "NotReady");
}
