import { cidrContains } from "@kubeplus/charts";
import { AccessNames, IDENTITY_LABEL, tenantRules } from "@kubeplus/access";
import {
  Annotations,
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
  ProviderBinding: AccessNames.TenantRole,
  CreatorBinding: "kubeplus-instance-creator",
  /** The identity helm runs the instance's chart as: a ServiceAccount with rights in this namespace only. */
  ChartIdentity: "kubeplus-chart",
} as const;

/**
 * The chart's own identity in the instance namespace: a ServiceAccount bound there, and only there, to a Role with
 * the tenant rules (a Role of the namespace, not the cluster-wide tenant role, so that it holds wherever the helmer
 * runs). The helmer requests a short-lived token for it before each helm run, so the chart's templates (`lookup`),
 * hooks and objects act with rights in this namespace and nowhere else, never with the provider's identity. No pod
 * may run as it (the post-render check refuses that), and it mounts no token by default.
 */
export function chartIdentity(ns: string): Obj[] {
  const labels = { [Labels.ManagedBy]: "kubeplus" };
  const metadata = { name: ISOLATION.ChartIdentity, namespace: ns, labels };
  return [
    { apiVersion: "v1", kind: "ServiceAccount", metadata, automountServiceAccountToken: false },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "Role",
      metadata,
      rules: tenantRules(),
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata,
      roleRef: {
        apiGroup: "rbac.authorization.k8s.io",
        kind: "Role",
        name: ISOLATION.ChartIdentity,
      },
      subjects: [{ kind: "ServiceAccount", name: ISOLATION.ChartIdentity, namespace: ns }],
    },
  ];
}

/** A ServiceAccount: the identity the helmer runs as, when it runs as one (the provider's, in a cluster). */
export interface ServiceAccountRef {
  readonly namespace: string;
  readonly name: string;
}

const SA_PREFIX = "system:serviceaccount:";

/** The RBAC subject of a username as the apiserver reports it (a ServiceAccount's, or a user's). */
export function subjectFor(username: string): Record<string, string> {
  if (username.startsWith(SA_PREFIX)) {
    const [namespace = "", name = ""] = username.slice(SA_PREFIX.length).split(":");
    return { kind: "ServiceAccount", namespace, name };
  }
  return { kind: "User", apiGroup: "rbac.authorization.k8s.io", name: username };
}

/** The ServiceAccount behind a username, if it is one. */
export function serviceAccountOf(username: string): ServiceAccountRef | undefined {
  const subject = subjectFor(username);
  return subject.kind === "ServiceAccount"
    ? { namespace: subject.namespace ?? "", name: subject.name ?? "" }
    : undefined;
}

function roleBinding(ns: string, name: string, role: string, subject: Record<string, string>): Obj {
  return {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "RoleBinding",
    metadata: {
      name,
      namespace: ns,
      labels: {
        [Labels.ManagedBy]: "kubeplus",
        ...(role === AccessNames.TenantRole ? { [IDENTITY_LABEL]: AccessNames.Provider } : {}),
      },
    },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: role },
    subjects: [subject],
  };
}

/**
 * Who may do what in the instance's namespace, applied first: the helmer itself (when it runs as the provider's
 * ServiceAccount it holds no rights in a new namespace until it binds the tenant role there), and the instance's
 * creator, who may read what its instance runs (only in a namespace of the instance's own).
 */
function accessBindings(
  instance: Instance,
  ns: string,
  create: boolean,
  self: ServiceAccountRef | undefined,
): Obj[] {
  const out: Obj[] = [];
  if (self)
    out.push(
      roleBinding(ns, ISOLATION.ProviderBinding, AccessNames.TenantRole, {
        kind: "ServiceAccount",
        ...self,
      }),
    );
  const creator = instance.metadata.annotations?.[Annotations.AccountIdentity];
  if (create && creator)
    out.push(
      roleBinding(
        ns,
        ISOLATION.CreatorBinding,
        AccessNames.InstanceViewerRole,
        subjectFor(creator),
      ),
    );
  return out;
}

export interface InstancePlan {
  readonly release: string;
  readonly namespace: string;
  readonly createNamespace: boolean;
  /** Applied in this order, before any chart object. */
  readonly isolation: Obj[];
  readonly namespaceObject?: Obj;
}

/**
 * Egress to addresses by CIDR (the composition's `egressCIDRs`, or everything), minus the cluster's own pod and
 * service ranges: NetworkPolicy enforcers apply ipBlocks to pod addresses too, so a bare 0.0.0.0/0 would let a
 * tenant reach every pod the namespace rules above keep it from (KubePlus's NATS among them).
 */
export function externalIpBlocks(
  cidrs: readonly string[],
  clusterCidrs: readonly string[],
): { ipBlock: { cidr: string; except?: string[] } }[] {
  return cidrs.map((cidr) => {
    const except = clusterCidrs.filter((c) => c !== cidr && cidrContains(cidr, c));
    return { ipBlock: { cidr, ...(except.length > 0 ? { except } : {}) } };
  });
}

/** The label the KubePlus chart gives the metrics-collector's pods (app.kubernetes.io/name). */
export const METRICS_COLLECTOR_NAME = "metrics-collector";

/**
 * Who scrapes a composition's appEndpoints: the metrics-collector pods of the KubePlus namespace, and the addresses
 * of a collector that runs outside the cluster (METRICS_COLLECTOR_CIDRS). None when the composition has no
 * appEndpoints: then nothing outside the tenant's namespace needs its pods.
 */
export function metricsCollectorPeers(
  rc: ResourceComposition,
  target: {
    platformNamespace?: string | undefined;
    metricsCollectorCidrs?: readonly string[] | undefined;
  },
): Record<string, unknown>[] {
  if (!rc.spec.resmonitor?.spec?.appEndpoints) return [];
  const inCluster = target.platformNamespace
    ? [
        {
          namespaceSelector: {
            matchLabels: { "kubernetes.io/metadata.name": target.platformNamespace },
          },
          podSelector: { matchLabels: { "app.kubernetes.io/name": METRICS_COLLECTOR_NAME } },
        },
      ]
    : [];
  return [
    ...inCluster,
    ...(target.metricsCollectorCidrs ?? []).map((cidr) => ({ ipBlock: { cidr } })),
  ];
}

function networkPolicies(
  namespace: string,
  rc: ResourceComposition,
  target: {
    platformNamespace?: string | undefined;
    clusterCidrs?: readonly string[] | undefined;
    metricsCollectorCidrs?: readonly string[] | undefined;
  },
): Obj[] {
  const platformNamespace = target.platformNamespace;
  const allowFrom = (rc.spec.isolation?.ingressFromNamespaces ?? []).map((ns) => ({
    namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": ns } },
  }));
  const collector = metricsCollectorPeers(rc, target);
  const egressCidrs = rc.spec.isolation?.egressCIDRs;
  return [
    {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: ISOLATION.DenyOtherTenants, namespace },
      spec: {
        podSelector: {},
        policyTypes: ["Ingress"],
        // Only the instance's own namespace and the namespaces the provider names (ingress controllers, monitoring),
        // and, when the composition has appEndpoints, KubePlus's metrics-collector, which scrapes them.
        ingress: [
          { from: [{ podSelector: {} }, ...allowFrom] },
          ...(collector.length > 0 ? [{ from: collector }] : []),
        ],
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
            // Namespaces that are not instances, except KubePlus's own: NATS and crd-hook are not for tenants.
            to: [
              {
                namespaceSelector: {
                  matchExpressions: [
                    { key: Labels.OwnerKind, operator: "DoesNotExist" },
                    ...(platformNamespace
                      ? [
                          {
                            key: "kubernetes.io/metadata.name",
                            operator: "NotIn",
                            values: [platformNamespace],
                          },
                        ]
                      : []),
                  ],
                },
              },
            ],
          },
          { to: externalIpBlocks(egressCidrs ?? ["0.0.0.0/0", "::/0"], target.clusterCidrs ?? []) },
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
  target: {
    namespace: string;
    create: boolean;
    platformNamespace?: string | undefined;
    /** The cluster's pod and service ranges (helmer CLUSTER_CIDRS), kept out of the egress ipBlocks. */
    clusterCidrs?: readonly string[] | undefined;
    /** Where a metrics-collector outside the cluster scrapes appEndpoints from (METRICS_COLLECTOR_CIDRS). */
    metricsCollectorCidrs?: readonly string[] | undefined;
  },
  self?: ServiceAccountRef,
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
            ...instanceNamespaceLabels(
              kind,
              name,
              instance.metadata.namespace ?? "",
              instance.metadata.uid,
            ),
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
    isolation: [
      ...accessBindings(instance, ns, target.create, self),
      ...chartIdentity(ns),
      ...networkPolicies(ns, rc, target),
      ...quota(ns, rc),
      ...limitRange(ns, rc),
    ],
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
