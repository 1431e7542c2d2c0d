import {
  instanceNamespaceLabels,
  Labels,
  releaseNameFor,
  type Instance,
  type ResourceComposition,
} from "@kubeplus/api";

type Obj = Record<string, unknown> & {
  apiVersion: string;
  kind: string;
  metadata: Record<string, unknown>;
};

/** Names of the isolation objects in every instance namespace (the first keeps the original's policy name). */
export const ISOLATION = {
  DenyOtherTenants: "restrict-cross-ns-traffic",
  Egress: "kubeplus-egress",
  Quota: "kubeplus-quota",
  Limits: "kubeplus-limits",
} as const;

export interface InstancePlan {
  readonly release: string;
  readonly namespace: string;
  readonly createNamespace: boolean;
  /** Applied in this order, before any chart object. */
  readonly isolation: Obj[];
  readonly namespaceObject?: Obj;
}

function networkPolicies(namespace: string, rc: ResourceComposition): Obj[] {
  const allowFrom = (rc.spec.isolation?.ingressFromNamespaces ?? []).map((ns) => ({
    namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": ns } },
  }));
  const egressCidrs = rc.spec.isolation?.egressCIDRs;
  return [
    {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: ISOLATION.DenyOtherTenants, namespace },
      spec: {
        podSelector: {},
        policyTypes: ["Ingress"],
        // Only the instance's own namespace and the namespaces the provider names (ingress controllers, monitoring).
        ingress: [{ from: [{ podSelector: {} }, ...allowFrom] }],
      },
    },
    {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: ISOLATION.Egress, namespace },
      spec: {
        podSelector: {},
        policyTypes: ["Egress"],
        egress: [
          { to: [{ podSelector: {} }] },
          {
            to: [
              {
                namespaceSelector: {
                  matchLabels: { "kubernetes.io/metadata.name": "kube-system" },
                },
              },
            ],
            ports: [
              { protocol: "UDP", port: 53 },
              { protocol: "TCP", port: 53 },
            ],
          },
          {
            to: [
              {
                namespaceSelector: {
                  matchExpressions: [{ key: Labels.OwnerKind, operator: "DoesNotExist" }],
                },
              },
            ],
          },
          { to: (egressCidrs ?? ["0.0.0.0/0", "::/0"]).map((cidr) => ({ ipBlock: { cidr } })) },
        ],
      },
    },
  ];
}

function quota(namespace: string, rc: ResourceComposition): Obj[] {
  const q = rc.spec.respolicy?.spec?.policy?.quota;
  const keys = ["requests.cpu", "requests.memory", "limits.cpu", "limits.memory"] as const;
  if (!q || !keys.every((k) => q[k] !== undefined && q[k] !== "")) return [];
  return [
    {
      apiVersion: "v1",
      kind: "ResourceQuota",
      metadata: { name: ISOLATION.Quota, namespace },
      spec: { hard: Object.fromEntries(keys.map((k) => [k, String(q[k])])) },
    },
  ];
}

function limitRange(namespace: string, rc: ResourceComposition): Obj[] {
  const pod = rc.spec.respolicy?.spec?.policy?.podconfig;
  const toStrings = (r?: {
    cpu?: number | string;
    memory?: number | string;
  }): Record<string, string> =>
    Object.fromEntries(
      (Object.entries(r ?? {}) as [string, unknown][])
        .filter(([, v]) => v !== undefined && v !== "")
        .map(([k, v]) => [k, String(v)]),
    );
  const requests = toStrings(pod?.requests);
  const limits = toStrings(pod?.limits);
  if (Object.keys(requests).length === 0 && Object.keys(limits).length === 0) return [];
  return [
    {
      apiVersion: "v1",
      kind: "LimitRange",
      metadata: { name: ISOLATION.Limits, namespace },
      spec: {
        limits: [
          {
            type: "Container",
            ...(Object.keys(requests).length ? { defaultRequest: requests } : {}),
            ...(Object.keys(limits).length ? { default: limits } : {}),
          },
        ],
      },
    },
  ];
}

/**
 * What an instance needs before its chart: the namespace (labelled with its owner and the composition's Pod
 * Security level), then NetworkPolicies that fence it off from other tenants, the ResourceQuota and the LimitRange
 * whose defaults come from the pod policy (so that pods without resources still fit the quota).
 */
export function planInstance(
  instance: Instance,
  rc: ResourceComposition,
  target: { namespace: string; create: boolean },
): InstancePlan {
  const kind = rc.spec.newResource.resource.kind;
  const name = instance.metadata.name ?? "";
  const ns = target.namespace;
  const podSecurity = rc.spec.isolation?.podSecurity ?? "baseline";
  const namespaceObject: Obj | undefined = target.create
    ? {
        apiVersion: "v1",
        kind: "Namespace",
        metadata: {
          name: ns,
          labels: {
            ...instanceNamespaceLabels(kind, name, instance.metadata.namespace ?? ""),
            "pod-security.kubernetes.io/enforce": podSecurity,
            "pod-security.kubernetes.io/warn": podSecurity,
          },
          annotations: { "meta.helm.sh/release-name": releaseNameFor(kind, name) },
        },
      }
    : undefined;
  return {
    release: releaseNameFor(kind, name),
    namespace: ns,
    createNamespace: target.create,
    isolation: [...networkPolicies(ns, rc), ...quota(ns, rc), ...limitRange(ns, rc)],
    ...(namespaceObject ? { namespaceObject } : {}),
  };
}

/** The release and namespace of an instance, without its composition (enough to delete it). */
export function releasePlan(
  instance: Instance,
  target: { namespace: string; create: boolean },
): InstancePlan {
  return {
    release: releaseNameFor(instance.kind, instance.metadata.name ?? ""),
    namespace: target.namespace,
    createNamespace: target.create,
    isolation: [],
  };
}
