/**
 * Who an instance namespace belongs to, decided from the namespace's labels alone (pure). KubePlus creates an
 * instance's namespace (it never applies over an existing one) and labels it with the instance's UID; every install,
 * uninstall and delete checks that label first, so that two instances racing for one name, or an instance named after
 * a namespace someone else made, can never act on objects that are not theirs.
 */
import { Labels } from "./labels.js";

/** Namespaces no instance may take, whatever its name: the cluster's own, and the administrator's usual ones. */
export const RESERVED_NAMESPACES: readonly string[] = [
  "default",
  "kube-system",
  "kube-public",
  "kube-node-lease",
  "monitoring",
  "logging",
  "observability",
  "ingress-nginx",
  "cert-manager",
  "istio-system",
  "linkerd",
  "gatekeeper-system",
  "kyverno",
  "flux-system",
  "argocd",
  "velero",
  "local-path-storage",
];

/** Prefixes no instance namespace may start with (the cluster's, and platforms' own). */
export const RESERVED_NAMESPACE_PREFIXES: readonly string[] = ["kube-", "openshift-", "kubeplus"];

/**
 * Why an instance may not have a namespace of this name, or undefined when it may. `kubeplusNamespace` is the
 * namespace KubePlus runs in; `extra` the administrator's own list (the helmer's RESERVED_NAMESPACES setting).
 */
export function reservedNamespaceReason(
  name: string,
  kubeplusNamespace: string,
  extra: readonly string[] = [],
): string | undefined {
  const instead = "choose another instance name";
  if (name === kubeplusNamespace) return `namespace ${name} is where KubePlus runs; ${instead}`;
  if (RESERVED_NAMESPACES.includes(name) || extra.includes(name))
    return `namespace ${name} is reserved for the cluster's administrators (instances get a namespace named after them); ${instead}`;
  const prefix = RESERVED_NAMESPACE_PREFIXES.find((p) => name.startsWith(p));
  if (prefix) return `namespaces starting with '${prefix}' are reserved; ${instead}`;
  return undefined;
}

export interface InstanceRef {
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
}

export type NamespaceOwnership =
  /** Created for this very instance. */
  | { readonly owner: "this" }
  /** Created by KubePlus for this instance before namespaces carried the instance's UID: take it, add the UID. */
  | { readonly owner: "this-legacy" }
  /** Someone else's: an administrator's, another instance's, or an earlier instance's of the same name. */
  | { readonly owner: "other"; readonly detail: string };

/** Whose the existing namespace `name` is, from its labels. */
export function namespaceOwnership(
  name: string,
  labels: Readonly<Record<string, string>> | undefined,
  instance: InstanceRef,
): NamespaceOwnership {
  const l = labels ?? {};
  const uid = l[Labels.OwnerUid];
  if (uid !== undefined && uid === instance.uid) return { owner: "this" };
  const kind = l[Labels.OwnerKind];
  if (!kind)
    return {
      owner: "other",
      detail: `namespace ${name} already exists and was not created by KubePlus; KubePlus never takes over an existing namespace`,
    };
  const of = `${kind} ${l[Labels.OwnerInstanceNamespace] ?? "?"}/${l[Labels.OwnerInstance] ?? "?"}`;
  if (uid !== undefined)
    return {
      owner: "other",
      detail: `namespace ${name} belongs to ${of} (uid ${uid}), not to this instance (uid ${instance.uid})`,
    };
  const same =
    kind === instance.kind &&
    l[Labels.OwnerInstance] === instance.name &&
    l[Labels.OwnerInstanceNamespace] === instance.namespace;
  return same
    ? { owner: "this-legacy" }
    : { owner: "other", detail: `namespace ${name} belongs to ${of}` };
}
