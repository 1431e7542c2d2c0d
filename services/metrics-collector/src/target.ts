import { namespaceOwnership, releaseNameFor, targetNamespaceFor } from "@kubeplus/api";

/** Where an instance's release lives, as the collector meters and records it. */
export interface ReleaseTarget {
  readonly targetNamespace: string;
  readonly release: string;
}

export interface TargetInput {
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  /** Labels of a namespace (undefined when it does not exist). */
  readonly namespaceLabels: (namespace: string) => Record<string, string> | undefined;
}

/**
 * The namespace and release of an instance, derived from the instance exactly as the helmer derives them
 * (@kubeplus/api targetNamespaceFor, releaseNameFor); `status.helmrelease` is never trusted for it.
 */
export function releaseTargetOf(input: TargetInput): ReleaseTarget & { create: boolean } {
  const target = targetNamespaceFor(input, input.namespaceLabels);
  return {
    targetNamespace: target.namespace,
    release: releaseNameFor(input.kind, input.name),
    create: target.create,
  };
}

/**
 * A namespace KubePlus created for an instance is metered for that instance only when it is that instance's, by the
 * helmer's own rule (@kubeplus/api namespaceOwnership: its UID label, or for a namespace made before UIDs its kind,
 * name and instance namespace): a namespace of another tenant, of an earlier instance of the same name, or one nobody
 * created for this instance, never.
 */
export function ownsNamespace(
  input: Pick<TargetInput, "kind" | "namespace" | "name"> & { readonly uid: string },
  targetLabels: Record<string, string> | undefined,
): boolean {
  return (
    targetLabels !== undefined && namespaceOwnership("", targetLabels, input).owner !== "other"
  );
}
