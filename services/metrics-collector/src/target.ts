import { Labels, releaseNameFor, targetNamespaceFor } from "@kubeplus/api";

/** Where an instance's release lives, as the collector meters and records it. */
export interface ReleaseTarget {
  readonly targetNamespace: string;
  readonly release: string;
}

export interface TargetInput {
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  /** Labels of the instance's own namespace (undefined when it is gone). */
  readonly namespaceLabels: Record<string, string> | undefined;
}

/**
 * The namespace and release of an instance, derived from its namespace and name exactly as the helmer derives them
 * (targetNamespaceFor, releaseNameFor); `status.helmrelease` is never trusted for it.
 */
export function releaseTargetOf(input: TargetInput): ReleaseTarget & { create: boolean } {
  const target = targetNamespaceFor(
    { namespace: input.namespace, name: input.name },
    input.namespaceLabels,
  );
  return {
    targetNamespace: target.namespace,
    release: releaseNameFor(input.kind, input.name),
    create: target.create,
  };
}

/**
 * A namespace KubePlus created for an instance is metered for that instance only when its labels name it (kind,
 * name and the instance's namespace): a namespace of another tenant, or one nobody created for this instance, never.
 */
export function ownsNamespace(
  input: Pick<TargetInput, "kind" | "namespace" | "name">,
  targetLabels: Record<string, string> | undefined,
): boolean {
  return (
    targetLabels?.[Labels.OwnerKind] === input.kind &&
    targetLabels[Labels.OwnerInstance] === input.name &&
    targetLabels[Labels.OwnerInstanceNamespace] === input.namespace
  );
}
