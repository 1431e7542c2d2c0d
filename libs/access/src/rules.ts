import { DEFAULT_GENERATED_GROUP, Labels, MANAGED_BY_VALUE, PLATFORM_GROUP } from "@kubeplus/api";

/** An RBAC PolicyRule, as the apiserver stores it. */
export interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
  verbs: string[];
}

/** Names of the identities and the cluster roles, fixed so that scripts and the chart can refer to them. */
export const AccessNames = {
  /** The provider's ServiceAccount (as in the original), and its ClusterRole and ClusterRoleBinding. */
  Provider: "kubeplus-saas-provider",
  /** What the provider may do inside a namespace it manages (bound there by a RoleBinding, never cluster-wide). */
  TenantRole: "kubeplus-saas-provider-tenant",
  /** The built-in consumer's ServiceAccount (as in the original). */
  Consumer: "kubeplus-saas-consumer",
  /** The instance kinds a consumer may manage (`kubectl grantpermission consumer <plural>` adds to it). */
  ConsumerInstancesRole: "kubeplus-saas-consumer",
  /** Read-only access to the namespace of an instance, granted by the helmer to the instance's creator. */
  InstanceViewerRole: "kubeplus-saas-consumer-instance-viewer",
  /** Read the events of a consumer's own namespace (what KubePlus says about its instances), bound there. */
  ConsumerEventsRole: "kubeplus-saas-consumer-events",
  /** Record events in a consumer's namespace (the helmer's, about the instances there), bound there to the provider. */
  ProviderEventsRole: "kubeplus-saas-provider-events",
  /** Prefix of the admission policies that fence the provider (and their bindings). */
  PolicyPrefix: "kubeplus-saas-provider",
} as const;

/** The labels that mark a namespace as managed by KubePlus (the standard one and the original's). */
export const MANAGED_NAMESPACE_LABELS: Readonly<Record<string, string>> = {
  [Labels.ManagedBy]: MANAGED_BY_VALUE,
  [Labels.LegacyManagedBy]: MANAGED_BY_VALUE,
};

/** The API groups whose CRDs and webhooks are KubePlus's own: its platform API and the generated kinds. */
export function ownGroups(extraGroups: readonly string[] = []): string[] {
  return [...new Set([PLATFORM_GROUP, DEFAULT_GENERATED_GROUP, ...extraGroups])].sort();
}

/** Choices the administrator makes when creating the provider (`provider-kubeconfig create` flags). */
export interface ProviderOptions {
  /**
   * Grant `nodes/proxy` get (`--kubelet-proxy`): the metrics-collector then may read kubelets through the apiserver
   * (KUBELET_ACCESS=proxy). Off by default: nodes/proxy reaches every kubelet endpoint.
   */
  readonly kubeletProxy?: boolean;
  /**
   * Let the provider's webhooks and CRD conversions call a loopback `url` (`--allow-webhook-url`): for a KubePlus
   * that runs beside the apiserver, as the local control plane's `make up` does. Off by default: they must call a
   * Service in the provider's namespace.
   */
  readonly allowWebhookUrl?: boolean;
}

/** The groups of the generated instance kinds: what consumers may be granted (never the platform's own group). */
export function generatedGroups(extraGroups: readonly string[] = []): string[] {
  return ownGroups(extraGroups).filter((g) => g !== PLATFORM_GROUP);
}

const ALL = ["get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"];
const READ = ["get", "list", "watch"];

/**
 * The provider's cluster-wide rules. Every write here that could reach outside KubePlus's own objects is fenced by
 * an admission policy (see policies.ts): namespaces must be managed, CRDs and webhooks must be of KubePlus's groups,
 * RoleBindings may only be created in managed namespaces. Nothing here reads a namespaced object of another
 * namespace: that comes from the tenant role, bound per managed namespace.
 */
export function providerClusterRules(
  extraGroups: readonly string[] = [],
  options: ProviderOptions = {},
): PolicyRule[] {
  const generated = generatedGroups(extraGroups);
  return [
    {
      apiGroups: [PLATFORM_GROUP],
      resources: [
        "resourcecompositions",
        "resourcecompositions/status",
        "resourcepolicies",
        "resourcepolicies/status",
        "resourcemonitors",
        "resourcemonitors/status",
      ],
      verbs: ALL,
    },
    { apiGroups: generated, resources: ["*"], verbs: ALL },
    { apiGroups: ["apiextensions.k8s.io"], resources: ["customresourcedefinitions"], verbs: ALL },
    {
      apiGroups: ["admissionregistration.k8s.io"],
      resources: ["validatingwebhookconfigurations", "mutatingwebhookconfigurations"],
      verbs: ALL,
    },
    {
      apiGroups: [""],
      resources: ["namespaces"],
      verbs: ["get", "list", "watch", "create", "update", "patch", "delete"],
    },
    // create and patch (server-side apply) only: the helmer binds itself the tenant role in a namespace it just made.
    {
      apiGroups: ["rbac.authorization.k8s.io"],
      resources: ["rolebindings"],
      verbs: ["create", "patch"],
    },
    {
      apiGroups: ["rbac.authorization.k8s.io"],
      resources: ["clusterroles"],
      verbs: ["bind"],
      resourceNames: [
        AccessNames.TenantRole,
        AccessNames.ConsumerInstancesRole,
        AccessNames.InstanceViewerRole,
        AccessNames.ConsumerEventsRole,
        AccessNames.ProviderEventsRole,
      ],
    },
    // The consumers' instance kinds (kubectl grantpermission consumer): the escalation check still holds, so the
    // provider can put there only permissions it holds itself (its generated groups).
    {
      apiGroups: ["rbac.authorization.k8s.io"],
      resources: ["clusterroles"],
      verbs: ["get", "patch", "update"],
      resourceNames: [AccessNames.ConsumerInstancesRole],
    },
    { apiGroups: [""], resources: ["nodes"], verbs: READ },
    // The metrics-collector reads each kubelet's resource metrics, cAdvisor counters (nodes/metrics) and stats
    // (nodes/stats) straight from the kubelet, which authorizes exactly these subresources. nodes/proxy (every
    // kubelet endpoint: pod specs, logs, exec on some kubelets) only when the administrator opts in.
    { apiGroups: [""], resources: ["nodes/metrics", "nodes/stats"], verbs: ["get"] },
    ...(options.kubeletProxy
      ? [{ apiGroups: [""], resources: ["nodes/proxy"], verbs: ["get"] }]
      : []),
    { apiGroups: ["storage.k8s.io"], resources: ["storageclasses"], verbs: READ },
    { apiGroups: ["authentication.k8s.io"], resources: ["selfsubjectreviews"], verbs: ["create"] },
  ];
}

/**
 * Inside a managed namespace the provider is its administrator: a chart may put anything namespaced there. Pod
 * Security admission (enforced on every managed namespace, and the provider cannot lower it) keeps pods off the
 * node.
 */
export function tenantRules(): PolicyRule[] {
  return [{ apiGroups: ["*"], resources: ["*"], verbs: ["*"] }];
}

/**
 * A consumer's rules in its own namespace: the instance kinds granted to it, and nothing else. Not their `/status`:
 * KubePlus writes it (where the release lives, its inventory), and the services act on what it says.
 */
export function consumerInstanceRules(plurals: readonly string[], group: string): PolicyRule[] {
  if (plurals.length === 0) return [];
  const resources = [...new Set(plurals)].sort();
  return [
    {
      apiGroups: [group],
      resources,
      verbs: ALL.filter((v) => v !== "deletecollection"),
    },
  ];
}

/**
 * A consumer's reading of events in its own namespace: what the helmer and the webhook say about its instances
 * (`kubectl describe`, the console's instance page). Bound by a RoleBinding there, never cluster-wide.
 */
export function consumerEventRules(): PolicyRule[] {
  return [
    { apiGroups: [""], resources: ["events"], verbs: READ },
    { apiGroups: ["events.k8s.io"], resources: ["events"], verbs: READ },
  ];
}

/**
 * The provider's recording of events in a consumer's namespace: the helmer tells each change of an instance's state
 * there (an Event lives in its object's namespace). Create and patch only, bound by a RoleBinding in each consumer
 * namespace; the provider holds nothing else there but the instance kinds.
 */
export function providerEventRules(): PolicyRule[] {
  return [
    { apiGroups: [""], resources: ["events"], verbs: ["create", "patch"] },
    { apiGroups: ["events.k8s.io"], resources: ["events"], verbs: ["create", "patch"] },
  ];
}

/**
 * What an instance's creator may do in the instance's namespace: read its objects (its own Secrets included), logs
 * and events, and port-forward to its pods. No writes: the release is changed through the instance alone.
 */
export function instanceViewerRules(): PolicyRule[] {
  return [
    {
      apiGroups: ["", "apps", "batch", "networking.k8s.io", "policy", "autoscaling"],
      resources: [
        "pods",
        "pods/log",
        "services",
        "endpoints",
        "configmaps",
        "secrets",
        "persistentvolumeclaims",
        "events",
        "resourcequotas",
        "limitranges",
        "deployments",
        "statefulsets",
        "daemonsets",
        "replicasets",
        "jobs",
        "cronjobs",
        "ingresses",
        "networkpolicies",
        "poddisruptionbudgets",
        "horizontalpodautoscalers",
      ],
      verbs: READ,
    },
    { apiGroups: ["events.k8s.io"], resources: ["events"], verbs: READ },
    { apiGroups: [""], resources: ["pods/portforward"], verbs: ["get", "create"] },
  ];
}

/** The resource names a set of rules mentions (the original's `<sa>-perms` record): sorted, unique. */
export function permissionNames(rules: readonly PolicyRule[]): string[] {
  const names = new Set<string>();
  for (const rule of rules) {
    for (const r of rule.resources ?? []) names.add(r);
    for (const u of rule.nonResourceURLs ?? []) names.add(`nonResourceURL::${u}`);
  }
  return [...names].sort();
}
