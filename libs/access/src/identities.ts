import { Labels, MANAGED_BY_VALUE } from "@kubeplus/api";
import { KubeRequestError } from "@kubeplus/kube";
import { ClusterIO, Paths, type ApplyObject } from "./cluster-io.js";
import { buildKubeconfig, tokenLifetimeProblem, type Kubeconfig } from "./kubeconfig.js";
import { describeContents, isEmpty, readNamespaceContents } from "./namespace-contents.js";
import { describeRules, mergeRules, revokeRules, sameRules } from "./permission-file.js";
import { DEFAULT_POD_SECURITY, providerPolicies } from "./policies.js";
import {
  AccessNames,
  consumerEventRules,
  consumerInstanceRules,
  providerEventRules,
  instanceViewerRules,
  MANAGED_NAMESPACE_LABELS,
  permissionNames,
  providerClusterRules,
  tenantRules,
  type PolicyRule,
  type ProviderOptions,
} from "./rules.js";

export const FIELD_MANAGER = "kubeplus-provider-kubeconfig";
/** Label on every object an identity command creates: which identity it belongs to. */
export const IDENTITY_LABEL = "kubeplus.dev/identity";
/** Annotation on a namespace: the labels `create` added, so that `delete` can take exactly those away. */
export const ADDED_LABELS_ANNOTATION = "kubeplus.dev/added-labels";
/** Annotation on a stored kubeconfig Secret: when its token expires (RFC 3339). */
export const TOKEN_EXPIRES_ANNOTATION = "kubeplus.dev/token-expires-at";

const RBAC = "rbac.authorization.k8s.io/v1";

export type Entity = "provider" | "consumer";

export interface IdentityRef {
  readonly namespace: string;
  readonly serviceAccount: string;
}

export function entityOf(serviceAccount: string): Entity {
  return serviceAccount === AccessNames.Provider ? "provider" : "consumer";
}

export interface KubeconfigOptions {
  /** The server URL written into the kubeconfig (default: the one of the admin kubeconfig in use). */
  readonly server?: string;
  readonly clusterName: string;
  readonly durationSeconds: number;
  /** The original's never-expiring token Secret instead of a bound token (only when asked for). */
  readonly legacyToken?: boolean;
}

export interface IssuedKubeconfig {
  readonly config: Kubeconfig;
  /** When the token expires (ISO time), or undefined for a legacy token that never does. */
  readonly expiresAt: string | undefined;
}

function labelsOf(ref: IdentityRef): Record<string, string> {
  return { [Labels.ManagedBy]: MANAGED_BY_VALUE, [IDENTITY_LABEL]: ref.serviceAccount };
}

interface NamespaceObject {
  metadata: { labels?: Record<string, string>; annotations?: Record<string, string> };
}

/** A refusal of an identity command: nothing was changed, and the message says what to do instead. */
export class IdentityError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "IdentityError";
  }
}

/** What `create` did with the namespace. */
export type NamespaceOutcome =
  | { readonly kind: "created" }
  | { readonly kind: "managed" }
  /** An existing namespace now labelled as managed; `holds` says what its new manager may now read and change. */
  | { readonly kind: "adopted"; readonly holds: string };

export interface NamespaceOptions {
  /** Label an existing, non-empty namespace as managed by KubePlus (`--adopt-namespace`). */
  readonly adoptNamespace?: boolean;
}

/** Label of the flag that allows adopting a non-empty namespace (the CLI's). */
export const ADOPT_FLAG = "--adopt-namespace";

async function createNamespace(
  io: ClusterIO,
  namespace: string,
  labels: Record<string, string>,
): Promise<boolean> {
  try {
    await io.post("/api/v1/namespaces", {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: namespace, labels },
    });
    return true;
  } catch (err) {
    // Created meanwhile by someone else: it is an existing namespace, and is treated as one.
    if (err instanceof KubeRequestError && err.code === 409) return false;
    throw err;
  }
}

/**
 * Creates the namespace (created, never applied: an existing one is never taken over by accident), or labels an
 * existing one as managed, recording what it added. A namespace that already holds objects is adopted only when
 * asked (`adoptNamespace`): once managed, the provider may bind itself full rights there, so it would hold its
 * Secrets and every ServiceAccount's tokens.
 */
export async function ensureManagedNamespace(
  io: ClusterIO,
  namespace: string,
  options: NamespaceOptions = {},
): Promise<NamespaceOutcome> {
  const wanted: Record<string, string> = { ...MANAGED_NAMESPACE_LABELS, ...DEFAULT_POD_SECURITY };
  const existing = await existingNamespace(io, namespace, wanted);
  if (!existing) return { kind: "created" };
  const labels = existing.metadata.labels ?? {};
  const added = Object.keys(wanted).filter((k) => labels[k] === undefined);
  const managed = labels[Labels.ManagedBy] === MANAGED_BY_VALUE;
  if (added.length === 0 && managed) return { kind: "managed" };
  const holds = managed
    ? "nothing new: it was already managed by KubePlus"
    : await checkAdoption(io, namespace, options);
  const before = existing.metadata.annotations?.[ADDED_LABELS_ANNOTATION];
  const recorded = [...new Set([...(before ? (JSON.parse(before) as string[]) : []), ...added])];
  const patch: Record<string, string> = {};
  for (const k of added) patch[k] = wanted[k] ?? "";
  patch[Labels.ManagedBy] = MANAGED_BY_VALUE;
  await io.mergePatch(Paths.namespace(namespace), {
    metadata: {
      labels: patch,
      annotations: { [ADDED_LABELS_ANNOTATION]: JSON.stringify(recorded.sort()) },
    },
  });
  return { kind: "adopted", holds };
}

/** The namespace as it is, or undefined when this call created it (with the managed labels). */
async function existingNamespace(
  io: ClusterIO,
  namespace: string,
  labels: Record<string, string>,
): Promise<NamespaceObject | undefined> {
  const existing = await io.get<NamespaceObject>(Paths.namespace(namespace));
  if (existing) return existing;
  if (await createNamespace(io, namespace, labels)) return undefined;
  const raced = await io.get<NamespaceObject>(Paths.namespace(namespace));
  if (!raced) throw new Error(`namespace ${namespace} vanished while it was being created`);
  return raced;
}

/** What an existing namespace holds; refused when it holds anything and adopting it was not asked for. */
async function checkAdoption(
  io: ClusterIO,
  namespace: string,
  options: NamespaceOptions,
): Promise<string> {
  const contents = await readNamespaceContents(io, namespace);
  const holds = describeContents(contents);
  if (!isEmpty(contents) && !options.adoptNamespace)
    throw new IdentityError(
      `namespace ${namespace} already exists and holds ${holds}; once it is managed by KubePlus the provider may read and change all of it, its Secrets and its ServiceAccounts' tokens included. Nothing was changed: use a new namespace, or pass ${ADOPT_FLAG} to hand this one over`,
    );
  return holds;
}

/** Takes away the labels `create` added to a namespace that existed before it (the namespace itself stays). */
async function restoreNamespace(io: ClusterIO, namespace: string): Promise<void> {
  const existing = await io.get<NamespaceObject>(Paths.namespace(namespace));
  const recorded = existing?.metadata.annotations?.[ADDED_LABELS_ANNOTATION];
  if (!recorded) return;
  const labels: Record<string, null> = {};
  for (const k of JSON.parse(recorded) as string[]) labels[k] = null;
  await io.mergePatch(Paths.namespace(namespace), {
    metadata: { labels, annotations: { [ADDED_LABELS_ANNOTATION]: null } },
  });
}

function clusterRole(name: string, rules: PolicyRule[], ref: IdentityRef): ApplyObject {
  return {
    apiVersion: RBAC,
    kind: "ClusterRole",
    metadata: { name, labels: labelsOf(ref) },
    rules,
  };
}

function subjectOf(ref: IdentityRef): Record<string, string> {
  return { kind: "ServiceAccount", name: ref.serviceAccount, namespace: ref.namespace };
}

function binding(ref: IdentityRef, name: string, role: string, namespace?: string): ApplyObject {
  return {
    apiVersion: RBAC,
    kind: namespace ? "RoleBinding" : "ClusterRoleBinding",
    metadata: { name, ...(namespace ? { namespace } : {}), labels: labelsOf(ref) },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: role },
    subjects: [subjectOf(ref)],
  };
}

async function ensureServiceAccount(io: ClusterIO, ref: IdentityRef): Promise<void> {
  await io.apply({
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: { name: ref.serviceAccount, namespace: ref.namespace, labels: labelsOf(ref) },
  });
}

/** The namespace the cluster's provider lives in (its ClusterRoleBinding's subject), if there is one. */
export async function providerNamespace(io: ClusterIO): Promise<string | undefined> {
  const existing = await io.get<{
    subjects?: { kind?: string; name?: string; namespace?: string }[];
  }>(Paths.clusterRoleBinding(AccessNames.Provider));
  return existing?.subjects?.find(
    (s) => s.kind === "ServiceAccount" && s.name === AccessNames.Provider,
  )?.namespace;
}

/** Namespaces KubePlus made for instances: managed, and owned by an instance (the helmer's labels). */
export const INSTANCE_NAMESPACE_SELECTOR = `${Labels.ManagedBy}=${MANAGED_BY_VALUE},${Labels.OwnerKind}`;

/**
 * The provider's tenant RoleBinding in every instance namespace, as the helmer makes it. `delete` removed them with
 * the identity; without them a re-created provider could not uninstall, or even read, the existing instances.
 * Returns the namespaces where the binding was missing.
 */
export async function restoreTenantBindings(io: ClusterIO, ref: IdentityRef): Promise<string[]> {
  const namespaces = await io.get<{
    items: { metadata: { name: string }; status?: { phase?: string } }[];
  }>(Paths.namespaces(INSTANCE_NAMESPACE_SELECTOR));
  const restored: string[] = [];
  // A namespace on its way out takes no new objects, and needs none: its instance is gone.
  for (const ns of (namespaces?.items ?? []).filter((n) => n.status?.phase !== "Terminating")) {
    const name = ns.metadata.name;
    const current = await io.get<{ subjects?: { name?: string; namespace?: string }[] }>(
      Paths.roleBinding(name, AccessNames.TenantRole),
    );
    const bound = current?.subjects?.some(
      (s) => s.name === ref.serviceAccount && s.namespace === ref.namespace,
    );
    if (bound) continue;
    await io.apply(binding(ref, AccessNames.TenantRole, AccessNames.TenantRole, name));
    restored.push(name);
  }
  return restored.sort();
}

export interface ProviderSetUp {
  readonly namespace: NamespaceOutcome;
  /** Instance namespaces whose tenant RoleBinding was missing and is back. */
  readonly restoredBindings: string[];
}

/**
 * The provider identity: a ServiceAccount whose cluster-wide rules are fenced by admission policies, who
 * administers the namespaces it manages (its own included), and the cluster roles it may hand out.
 */
export async function setUpProvider(
  io: ClusterIO,
  ref: IdentityRef,
  extraGroups: readonly string[],
  options: NamespaceOptions & ProviderOptions = {},
): Promise<ProviderSetUp> {
  const other = await providerNamespace(io);
  if (other && other !== ref.namespace)
    throw new IdentityError(
      `a KubePlus provider already exists in namespace ${other} (one per cluster): delete it first with provider-kubeconfig delete ${other}`,
    );
  const namespace = await ensureManagedNamespace(io, ref.namespace, options);
  await ensureServiceAccount(io, ref);
  for (const manifest of providerPolicies(ref.namespace, extraGroups, options))
    await io.apply({ ...manifest, metadata: { ...manifest.metadata, labels: labelsOf(ref) } });
  await io.apply(
    clusterRole(AccessNames.Provider, providerClusterRules(extraGroups, options), ref),
  );
  await io.apply(clusterRole(AccessNames.TenantRole, tenantRules(), ref));
  await io.apply(clusterRole(AccessNames.InstanceViewerRole, instanceViewerRules(), ref));
  await io.apply(clusterRole(AccessNames.ConsumerEventsRole, consumerEventRules(), ref));
  await io.apply(clusterRole(AccessNames.ProviderEventsRole, providerEventRules(), ref));
  // Grants made since (kubectl grantpermission consumer) are kept: the role is created only when missing.
  if (!(await io.get(Paths.clusterRole(AccessNames.ConsumerInstancesRole))))
    await io.apply(clusterRole(AccessNames.ConsumerInstancesRole, [], ref));
  await io.apply(binding(ref, AccessNames.TenantRole, AccessNames.TenantRole, ref.namespace));
  const restoredBindings = await restoreTenantBindings(io, ref);
  await writePermissionRecord(io, ref);
  // Last: the binding that names the provider's namespace is what `delete` and a second `create` go by.
  await io.apply(binding(ref, AccessNames.Provider, AccessNames.Provider));
  return { namespace, restoredBindings };
}

/** The RoleBinding that lets a consumer read the events of its namespace. */
const eventsBindingName = (ref: IdentityRef): string => `${ref.serviceAccount}-events`;

/** A consumer: a ServiceAccount in its namespace that may manage the instance kinds granted to consumers there. */
export async function setUpConsumer(
  io: ClusterIO,
  ref: IdentityRef,
  options: NamespaceOptions = {},
): Promise<{ namespace: NamespaceOutcome }> {
  if (!(await io.get(Paths.clusterRole(AccessNames.ConsumerInstancesRole))))
    throw new IdentityError(
      `the cluster role ${AccessNames.ConsumerInstancesRole} is missing: set up the provider first (provider-kubeconfig create <namespace>)`,
    );
  const namespace = await ensureManagedNamespace(io, ref.namespace, options);
  await ensureServiceAccount(io, ref);
  await io.apply(
    binding(ref, ref.serviceAccount, AccessNames.ConsumerInstancesRole, ref.namespace),
  );
  await io.apply(
    binding(ref, eventsBindingName(ref), AccessNames.ConsumerEventsRole, ref.namespace),
  );
  // The provider (the helmer) records events about the instances made here; deleted with the provider (its label).
  // The provider itself may not read that ClusterRoleBinding: it sets up only the built-in consumer, in its own
  // namespace, where its tenant role already lets it record events.
  const providerNs = await providerNamespace(io).catch((err: unknown) => {
    if (err instanceof KubeRequestError && err.code === 403) return undefined;
    throw err;
  });
  if (providerNs)
    await io.apply(
      binding(
        { namespace: providerNs, serviceAccount: AccessNames.Provider },
        AccessNames.ProviderEventsRole,
        AccessNames.ProviderEventsRole,
        ref.namespace,
      ),
    );
  await writePermissionRecord(io, ref);
  return { namespace };
}

interface TokenRequestStatus {
  status: { token: string; expirationTimestamp: string };
}

async function clusterCaPem(io: ClusterIO, namespace: string): Promise<string> {
  // Published into every namespace by the controller manager: the CA the cluster itself hands its workloads.
  for (let i = 0; i < 100; i++) {
    const cm = await io.get<{ data?: Record<string, string> }>(
      Paths.configMap(namespace, "kube-root-ca.crt"),
    );
    const pem = cm?.data?.["ca.crt"];
    if (pem) return pem;
    await new Promise((r) => setTimeout(r, 200));
  }
  const caData = io.kc.getCurrentCluster()?.caData;
  if (caData) return Buffer.from(caData, "base64").toString();
  throw new Error(
    `cannot find the cluster CA: no kube-root-ca.crt ConfigMap in ${namespace} and none in the kubeconfig`,
  );
}

async function legacyToken(io: ClusterIO, ref: IdentityRef): Promise<string> {
  const name = `${ref.serviceAccount}-token`;
  await io.apply({
    apiVersion: "v1",
    kind: "Secret",
    type: "kubernetes.io/service-account-token",
    metadata: {
      name,
      namespace: ref.namespace,
      labels: labelsOf(ref),
      annotations: { "kubernetes.io/service-account.name": ref.serviceAccount },
    },
  });
  for (let i = 0; i < 150; i++) {
    const secret = await io.get<{ data?: Record<string, string> }>(
      Paths.secret(ref.namespace, name),
    );
    const token = secret?.data?.token;
    if (token) return Buffer.from(token, "base64").toString();
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the token controller never filled Secret ${ref.namespace}/${name}`);
}

/** Mints a token for the ServiceAccount and wraps it, with the cluster CA, into a kubeconfig. */
export async function issueKubeconfig(
  io: ClusterIO,
  ref: IdentityRef,
  options: KubeconfigOptions,
): Promise<IssuedKubeconfig> {
  let token: string;
  let expiresAt: string | undefined;
  const tooLong = options.legacyToken
    ? undefined
    : tokenLifetimeProblem(entityOf(ref.serviceAccount), options.durationSeconds);
  if (tooLong) throw new Error(tooLong);
  if (options.legacyToken) {
    token = await legacyToken(io, ref);
  } else {
    const reply = await io.post<TokenRequestStatus>(
      Paths.token(ref.namespace, ref.serviceAccount),
      {
        apiVersion: "authentication.k8s.io/v1",
        kind: "TokenRequest",
        spec: { expirationSeconds: options.durationSeconds },
      },
    );
    token = reply.status.token;
    expiresAt = reply.status.expirationTimestamp;
  }
  const server = options.server ?? io.kc.getCurrentCluster()?.server;
  if (!server) throw new Error("no server URL: pass -s/--apiserverurl");
  const config = buildKubeconfig({
    server,
    caPem: await clusterCaPem(io, ref.namespace),
    token,
    user: ref.serviceAccount,
    clusterName: options.clusterName,
    namespace: ref.namespace,
  });
  return { config, expiresAt };
}

/** The Secret that keeps a copy of an identity's kubeconfig in its namespace. */
export function kubeconfigSecretName(serviceAccount: string): string {
  return `${serviceAccount}-kubeconfig`;
}

export async function storeKubeconfig(
  io: ClusterIO,
  ref: IdentityRef,
  issued: IssuedKubeconfig,
  fileName: string,
): Promise<void> {
  await io.apply({
    apiVersion: "v1",
    kind: "Secret",
    type: "Opaque",
    metadata: {
      name: kubeconfigSecretName(ref.serviceAccount),
      namespace: ref.namespace,
      labels: labelsOf(ref),
      annotations: issued.expiresAt ? { [TOKEN_EXPIRES_ANNOTATION]: issued.expiresAt } : {},
    },
    stringData: { [fileName]: JSON.stringify(issued.config) },
  });
}

/** Name of the role that holds what `update -p` granted. */
export function updateRoleName(ref: IdentityRef): string {
  return entityOf(ref.serviceAccount) === "provider"
    ? `${ref.serviceAccount}-update`
    : `${ref.namespace}-${ref.serviceAccount}-update`;
}

function updateBinding(ref: IdentityRef): ApplyObject {
  const name = updateRoleName(ref);
  // The provider's grants are cluster-wide; a consumer's hold only in its own namespace (as in the original).
  return entityOf(ref.serviceAccount) === "provider"
    ? binding(ref, name, name)
    : binding(ref, name, name, ref.namespace);
}

function updateBindingPath(ref: IdentityRef): string {
  const name = updateRoleName(ref);
  return entityOf(ref.serviceAccount) === "provider"
    ? Paths.clusterRoleBinding(name)
    : Paths.roleBinding(ref.namespace, name);
}

async function rulesOf(io: ClusterIO, role: string): Promise<PolicyRule[] | undefined> {
  const found = await io.get<{ rules?: PolicyRule[] }>(Paths.clusterRole(role));
  return found ? (found.rules ?? []) : undefined;
}

/** Grants more (`update -p`): added to what earlier updates granted. */
export async function grantPermissions(
  io: ClusterIO,
  ref: IdentityRef,
  rules: readonly PolicyRule[],
): Promise<void> {
  if (!(await io.get(Paths.serviceAccount(ref.namespace, ref.serviceAccount))))
    throw new Error(
      `${ref.namespace}/${ref.serviceAccount} does not exist: run provider-kubeconfig create first`,
    );
  const name = updateRoleName(ref);
  const merged = mergeRules((await rulesOf(io, name)) ?? [], rules);
  await io.apply(clusterRole(name, merged, ref));
  await io.apply(updateBinding(ref));
  await writePermissionRecord(io, ref);
}

/** A role that holds an identity's permissions, and the bindings that give it to the identity. */
interface HeldRole {
  readonly role: string;
  readonly bindingPaths: readonly string[];
  /** Made by these commands (applied with our labels); otherwise the original's, changed in place. */
  readonly ours: boolean;
}

interface RoleObject {
  metadata: { labels?: Record<string, string> };
  aggregationRule?: unknown;
  rules?: PolicyRule[];
}

interface BindingObject {
  roleRef?: { kind?: string; name?: string };
  subjects?: { kind?: string; name?: string; namespace?: string }[];
}

/** Roles never trimmed or deleted for one identity: the shared ones, Kubernetes' own, and aggregated ones. */
function sharedRole(name: string, role: RoleObject): boolean {
  const shared: readonly string[] = [
    AccessNames.ConsumerInstancesRole,
    AccessNames.TenantRole,
    AccessNames.InstanceViewerRole,
    AccessNames.ConsumerEventsRole,
    AccessNames.ProviderEventsRole,
  ];
  return (
    shared.includes(name) ||
    name.startsWith("system:") ||
    role.metadata.labels?.["kubernetes.io/bootstrapping"] === "rbac-defaults" ||
    role.aggregationRule !== undefined
  );
}

function bindsTo(b: BindingObject | undefined, role: string, ref: IdentityRef): boolean {
  return (
    b?.roleRef?.kind === "ClusterRole" &&
    b.roleRef.name === role &&
    (b.subjects ?? []).some(
      (s) =>
        s.kind === "ServiceAccount" &&
        s.name === ref.serviceAccount &&
        s.namespace === ref.namespace,
    )
  );
}

/**
 * A role in the original's layout: ClusterRole `<name>` given to this ServiceAccount by a RoleBinding `<name>` in
 * its namespace or a ClusterRoleBinding `<name>`. Only when such a binding names this very ServiceAccount, so that a
 * consumer named like a cluster role never trims that role for everyone.
 */
async function originalLayoutRole(
  io: ClusterIO,
  ref: IdentityRef,
  name: string,
): Promise<HeldRole | undefined> {
  // The provider (the kubeconfig-generator renewing the built-in consumer) may not read other roles: none then.
  const readable = async <T>(path: string): Promise<T | undefined> =>
    io.get<T>(path).catch((err: unknown) => {
      if (err instanceof KubeRequestError && err.code === 403) return undefined;
      throw err;
    });
  const role = await readable<RoleObject>(Paths.clusterRole(name));
  if (!role || sharedRole(name, role)) return undefined;
  const bindingPaths: string[] = [];
  for (const path of [Paths.roleBinding(ref.namespace, name), Paths.clusterRoleBinding(name)])
    if (bindsTo(await readable<BindingObject>(path), name, ref)) bindingPaths.push(path);
  return bindingPaths.length > 0 ? { role: name, bindingPaths, ours: false } : undefined;
}

/** The roles `revoke` may trim, in the original's order: what `update` granted first, then the base role. */
async function revocableRoles(io: ClusterIO, ref: IdentityRef): Promise<HeldRole[]> {
  const ours: HeldRole = {
    role: updateRoleName(ref),
    bindingPaths: [updateBindingPath(ref)],
    ours: true,
  };
  if (entityOf(ref.serviceAccount) === "provider")
    return [
      ours,
      {
        role: AccessNames.Provider,
        bindingPaths: [Paths.clusterRoleBinding(AccessNames.Provider)],
        ours: true,
      },
    ];
  const original = await Promise.all(
    [`${ref.serviceAccount}-update`, ref.serviceAccount].map((n) => originalLayoutRole(io, ref, n)),
  );
  return [ours, ...original.filter((r): r is HeldRole => r !== undefined)];
}

/** What `revoke` did, with what it looked at when it did nothing (for a message that says so). */
export type RevokeOutcome =
  | { readonly outcome: "revoked"; readonly role: string; readonly deleted: boolean }
  | { readonly outcome: "nothing-to-revoke"; readonly roles: string[]; readonly wanted: string }
  | { readonly outcome: "no-roles"; readonly lookedFor: string[]; readonly wanted: string };

function describeHeld(held: HeldRole): string {
  const bindings = held.bindingPaths.map((p) =>
    p.includes("/clusterrolebindings/")
      ? `ClusterRoleBinding ${p.slice(p.lastIndexOf("/") + 1)}`
      : `RoleBinding ${p.slice(p.indexOf("/namespaces/") + 12).replace("/rolebindings/", "/")}`,
  );
  return `ClusterRole ${held.role} (bound by ${bindings.join(" or ")})`;
}

/**
 * Takes permissions away (`revoke -p`): from the first role that holds any of them, what `update` granted before
 * the base role (the provider's, or a consumer's ClusterRole in the original's layout). Trimmed as the original
 * trims; a role left empty is deleted with its bindings.
 */
export async function revokePermissions(
  io: ClusterIO,
  ref: IdentityRef,
  rules: readonly PolicyRule[],
): Promise<RevokeOutcome> {
  const candidates = await revocableRoles(io, ref);
  const wanted = describeRules(rules);
  const found: string[] = [];
  for (const held of candidates) {
    const existing = await rulesOf(io, held.role);
    if (!existing) continue;
    found.push(held.role);
    const remaining = revokeRules(existing, rules);
    if (sameRules(existing, remaining)) continue;
    if (remaining.length === 0) {
      await io.delete(Paths.clusterRole(held.role));
      for (const path of held.bindingPaths) await io.delete(path);
    } else if (held.ours) {
      await io.apply(clusterRole(held.role, remaining, ref));
    } else {
      await io.mergePatch(Paths.clusterRole(held.role), { rules: remaining });
    }
    await writePermissionRecord(io, ref);
    return { outcome: "revoked", role: held.role, deleted: remaining.length === 0 };
  }
  if (found.length > 0) return { outcome: "nothing-to-revoke", roles: found, wanted };
  const lookedFor = candidates.map(describeHeld);
  if (entityOf(ref.serviceAccount) === "consumer")
    lookedFor.push(
      `ClusterRole ${ref.serviceAccount} or ${ref.serviceAccount}-update bound to ${ref.namespace}/${ref.serviceAccount} by a RoleBinding or ClusterRoleBinding of the same name (the original's layout)`,
    );
  return { outcome: "no-roles", lookedFor, wanted };
}

/** The `<sa>-perms` ConfigMap: the resource names the identity's roles mention (the original's record). */
async function writePermissionRecord(io: ClusterIO, ref: IdentityRef): Promise<void> {
  const roles =
    entityOf(ref.serviceAccount) === "provider"
      ? [AccessNames.Provider, updateRoleName(ref)]
      : [AccessNames.ConsumerInstancesRole, ...(await revocableRoles(io, ref)).map((h) => h.role)];
  const rules: PolicyRule[] = [];
  for (const role of roles) {
    // The provider may not read every role it is bound to (a consumer's update role): record what it can read.
    const found = await rulesOf(io, role).catch((err: unknown) => {
      if (err instanceof KubeRequestError && err.code === 403) return undefined;
      throw err;
    });
    rules.push(...(found ?? []));
  }
  const name = `${ref.serviceAccount}-perms`;
  await io.apply({
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name, namespace: ref.namespace, labels: labelsOf(ref) },
    data: { [`${name}.txt`]: JSON.stringify(permissionNames(rules)) },
  });
}

/**
 * Refuses, before anything is touched, to delete an identity that is not there: the provider of another
 * namespace (its objects are cluster-wide and would go with it), or a ServiceAccount these commands did not make.
 */
async function checkDeletable(io: ClusterIO, ref: IdentityRef): Promise<void> {
  const account = await io.get<{ metadata: { labels?: Record<string, string> } }>(
    Paths.serviceAccount(ref.namespace, ref.serviceAccount),
  );
  if (entityOf(ref.serviceAccount) === "provider") await checkProviderDeletable(io, ref, !!account);
  else await checkConsumerDeletable(io, ref, account);
}

async function checkProviderDeletable(
  io: ClusterIO,
  ref: IdentityRef,
  hasAccount: boolean,
): Promise<void> {
  const at = await providerNamespace(io);
  if (at && at !== ref.namespace)
    throw new IdentityError(
      `the KubePlus provider of this cluster is in namespace ${at}, not ${ref.namespace}; nothing was deleted (to delete it: provider-kubeconfig delete ${at})`,
    );
  if (!at && !hasAccount)
    throw new IdentityError(
      `there is no KubePlus provider in namespace ${ref.namespace} (no ServiceAccount ${ref.namespace}/${ref.serviceAccount}, no ClusterRoleBinding ${AccessNames.Provider}); nothing was deleted`,
    );
}

async function checkConsumerDeletable(
  io: ClusterIO,
  ref: IdentityRef,
  account: { metadata: { labels?: Record<string, string> } } | undefined,
): Promise<void> {
  const { namespace, serviceAccount: sa } = ref;
  const known =
    bindsTo(
      await io.get<BindingObject>(Paths.roleBinding(namespace, sa)),
      AccessNames.ConsumerInstancesRole,
      ref,
    ) || (await revocableRoles(io, ref)).some((h) => !h.ours);
  if (known) return;
  if (!account)
    throw new IdentityError(
      `there is no consumer ${sa} in namespace ${namespace}; nothing was deleted`,
    );
  if (account.metadata.labels?.[IDENTITY_LABEL] !== sa)
    throw new IdentityError(
      `ServiceAccount ${namespace}/${sa} is not a KubePlus consumer (provider-kubeconfig did not create it, and no role of the original's layout is bound to it); nothing was deleted`,
    );
}

/**
 * Everything `create` and `update` made for the identity goes; the namespace stays (as in the original). Refused,
 * touching nothing, when the identity is not there. The objects that say where the provider is go last, so that a
 * delete that failed half-way can be run again.
 */
export async function deleteIdentity(io: ClusterIO, ref: IdentityRef): Promise<void> {
  await checkDeletable(io, ref);
  const { namespace, serviceAccount: sa } = ref;
  await io.delete(Paths.secret(namespace, kubeconfigSecretName(sa)));
  await io.delete(Paths.secret(namespace, `${sa}-token`));
  await io.delete(Paths.configMap(namespace, `${sa}-perms`));
  if (entityOf(sa) === "consumer") {
    for (const held of await revocableRoles(io, ref)) {
      await io.delete(Paths.clusterRole(held.role));
      for (const path of held.bindingPaths) await io.delete(path);
    }
    await io.delete(Paths.roleBinding(namespace, eventsBindingName(ref)));
    await io.delete(Paths.roleBinding(namespace, sa));
    await io.delete(Paths.serviceAccount(namespace, sa));
    return;
  }
  await io.delete(Paths.clusterRole(updateRoleName(ref)));
  await io.delete(updateBindingPath(ref));
  // Tenant bindings the helmer made in the namespaces it manages carry the identity label.
  const bindings = await io.get<{ items: { metadata: { name: string; namespace: string } }[] }>(
    `/apis/rbac.authorization.k8s.io/v1/rolebindings?labelSelector=${encodeURIComponent(`${IDENTITY_LABEL}=${sa}`)}`,
  );
  for (const b of bindings?.items ?? [])
    await io.delete(Paths.roleBinding(b.metadata.namespace, b.metadata.name));
  for (const role of [
    AccessNames.TenantRole,
    AccessNames.InstanceViewerRole,
    AccessNames.ConsumerEventsRole,
    AccessNames.ProviderEventsRole,
    AccessNames.ConsumerInstancesRole,
  ])
    await io.delete(Paths.clusterRole(role));
  for (const manifest of providerPolicies(namespace)) {
    const path =
      manifest.kind === "ValidatingAdmissionPolicy"
        ? Paths.policy(manifest.metadata.name)
        : Paths.policyBinding(manifest.metadata.name);
    await io.delete(path);
  }
  await restoreNamespace(io, namespace);
  await io.delete(Paths.clusterRole(AccessNames.Provider));
  await io.delete(Paths.clusterRoleBinding(AccessNames.Provider));
  await io.delete(Paths.serviceAccount(namespace, sa));
}

/**
 * Lets consumers manage instances of more kinds (`kubectl grantpermission consumer <plural>`): the plurals are
 * added to those granted before, never replacing them. Returns every plural granted now.
 */
export async function grantConsumerKinds(
  io: ClusterIO,
  plurals: readonly string[],
  group: string,
): Promise<string[]> {
  const existing = await rulesOf(io, AccessNames.ConsumerInstancesRole);
  if (!existing)
    throw new Error(
      `the cluster role ${AccessNames.ConsumerInstancesRole} is missing: set up the provider first (provider-kubeconfig create <namespace>)`,
    );
  const earlier = existing
    .filter((rule) => (rule.apiGroups ?? []).includes(group))
    .flatMap((rule) => rule.resources ?? [])
    .filter((r) => !r.includes("/"));
  const granted = new Set([...earlier, ...plurals]);
  const others = existing.filter((rule) => !(rule.apiGroups ?? []).includes(group));
  const all = [...granted].sort();
  await io.apply({
    apiVersion: RBAC,
    kind: "ClusterRole",
    metadata: { name: AccessNames.ConsumerInstancesRole },
    rules: [...others, ...consumerInstanceRules(all, group)],
  });
  return all;
}
