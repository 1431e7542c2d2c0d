/**
 * An instance's namespace: what it is named (instanceNamespaceName, targetNamespaceFor) and whose an existing one is,
 * decided from the namespace's labels alone (namespaceOwnership). All pure. KubePlus creates an instance's namespace
 * (it never applies over an existing one) and labels it with the instance's UID; every install, uninstall and delete
 * checks that label first, so that an instance can never act on a namespace that is not its own.
 */
import { createHash } from "node:crypto";
import { isManagedNamespace, Labels } from "./labels.js";

/** Hexadecimal characters of the instance UID's SHA-256 at the end of its namespace's name. */
export const NAMESPACE_HASH_LENGTH = 8;

/** A namespace name is a DNS label: at most 63 characters. */
export const MAX_NAMESPACE_NAME = 63;

/** The longest instance name whose namespace name still fits (`<name>-<hash>`). */
export const MAX_INSTANCE_NAME_FOR_NAMESPACE = MAX_NAMESPACE_NAME - 1 - NAMESPACE_HASH_LENGTH;

/**
 * The namespace KubePlus creates for an instance: `<instance name>-<first 8 hex digits of sha256(instance UID)>`,
 * for example `shop-3f9a1c07`. The apiserver chooses the UID when the instance is created, so no consumer chooses
 * the name: an instance named like an administrator's namespace (`monitoring`, or one that does not exist yet) never
 * lands in it, and two instances of one name (two consumers, two kinds, or a deleted one and its successor) never
 * share one. The instance's name stays in front so that people still recognise it.
 */
export function instanceNamespaceName(instance: {
  readonly name: string;
  readonly uid: string;
}): string {
  if (!instance.uid)
    throw new Error(
      `instance ${instance.name} has no UID yet: its namespace is named after the UID the apiserver gives it`,
    );
  const hash = createHash("sha256").update(instance.uid).digest("hex");
  return `${instance.name}-${hash.slice(0, NAMESPACE_HASH_LENGTH)}`;
}

/**
 * Where an instance's release goes:
 * - an instance created in a namespace KubePlus made for an instance releases into that namespace (as in the
 *   original), and KubePlus creates none;
 * - an instance whose namespace was made under the earlier rule (named after the instance) keeps it, but only while
 *   that namespace is this instance's by namespaceOwnership (its UID label; nobody else's, whatever its name);
 * - any other instance gets a new namespace named by instanceNamespaceName.
 * `labelsOf` reads a namespace's labels (undefined when it does not exist), from a cache or a list already made.
 */
export function targetNamespaceFor(
  instance: InstanceRef,
  labelsOf: (namespace: string) => Readonly<Record<string, string>> | undefined,
): { namespace: string; create: boolean } {
  if (isManagedNamespace(labelsOf(instance.namespace)))
    return { namespace: instance.namespace, create: false };
  const earlier = labelsOf(instance.name);
  if (earlier && namespaceOwnership(instance.name, earlier, instance).owner !== "other")
    return { namespace: instance.name, create: true };
  return { namespace: instanceNamespaceName(instance), create: true };
}

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
    return `namespace ${name} is reserved for the cluster's administrators; ${instead}`;
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
