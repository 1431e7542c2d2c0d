/** Labels and annotations the platform puts on objects, defined once. */
export const Labels = {
  /** Standard: who manages the object. Value `kubeplus`. */
  ManagedBy: "app.kubernetes.io/managed-by",
  /** The original KubePlus's label on instance namespaces (kept for its users' selectors). Value `kubeplus`. */
  LegacyManagedBy: "managedby",
  /** Kind and name of the instance that owns a namespace. */
  OwnerKind: "kubeplus.dev/kind",
  OwnerInstance: "kubeplus.dev/instance",
  OwnerInstanceNamespace: "kubeplus.dev/instance-namespace",
  /** The UID of the instance that created a namespace: checked before every install, uninstall and delete. */
  OwnerUid: "kubeplus.dev/instance-uid",
} as const;

export const Annotations = {
  /** The user who created the instance (recorded at admission; the original's field name). */
  AccountIdentity: "accountidentity",
  /** Deleting a composition that still has instances requires this annotation set to "true". */
  CascadeDelete: "kubeplus.dev/cascade-delete",
  /**
   * The W3C traceparent of the admission that created the object or changed its spec, set by crd-hook's mutating
   * webhook when tracing is on: the helmer's reconcile of that generation is its child (docs/observability.md).
   */
  TraceParent: "kubeplus.dev/traceparent",
  /**
   * On an instance: the chart version it stays on while its composition's chart is another (a fleet rollout skips
   * it, reason Pinned); removing the annotation lets it move.
   */
  PinChart: "kubeplus.dev/pin-chart",
} as const;

/** The lines a sample manifest (`kubectl man`) shows under its metadata about pinning an instance's chart. */
export const PIN_CHART_SAMPLE_LINES: readonly string[] = [
  "  # annotations:",
  `  #   kubeplus.dev/pin-chart: "<chart version>"  # stay on that chart version during the provider's chart upgrades`,
];

export const MANAGED_BY_VALUE = "kubeplus";

/** The Helm release of an instance: `<kind-lowercase>-<instance>` (as in the original). */
export function releaseNameFor(kind: string, instance: string): string {
  return `${kind.toLowerCase()}-${instance}`;
}

/** Helm's limit on release names. */
export const MAX_RELEASE_NAME = 53;

/** The labels of a namespace KubePlus created for an instance. */
export function instanceNamespaceLabels(
  kind: string,
  instance: string,
  instanceNamespace: string,
  uid?: string,
): Record<string, string> {
  return {
    [Labels.ManagedBy]: MANAGED_BY_VALUE,
    [Labels.LegacyManagedBy]: MANAGED_BY_VALUE,
    [Labels.OwnerKind]: kind,
    [Labels.OwnerInstance]: instance,
    [Labels.OwnerInstanceNamespace]: instanceNamespace,
    ...(uid ? { [Labels.OwnerUid]: uid } : {}),
  };
}

/** True when the namespace carries the labels of a KubePlus-managed namespace. */
export function isManagedNamespace(labels: Readonly<Record<string, string>> | undefined): boolean {
  return labels?.[Labels.ManagedBy] === MANAGED_BY_VALUE && !!labels[Labels.OwnerKind];
}
