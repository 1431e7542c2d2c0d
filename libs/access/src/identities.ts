import { Labels, MANAGED_BY_VALUE } from "@kubeplus/api";
import { KubeRequestError } from "@kubeplus/kube";
import { ClusterIO, Paths, type ApplyObject } from "./cluster-io.js";
import { buildKubeconfig, type Kubeconfig } from "./kubeconfig.js";
import { mergeRules, revokeRules, sameRules } from "./permission-file.js";
import { DEFAULT_POD_SECURITY, providerPolicies } from "./policies.js";
import {
  AccessNames,
  consumerInstanceRules,
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

/** Creates the namespace, or labels an existing one as managed (recording what it added). */
export async function ensureManagedNamespace(io: ClusterIO, namespace: string): Promise<void> {
  const wanted: Record<string, string> = { ...MANAGED_NAMESPACE_LABELS, ...DEFAULT_POD_SECURITY };
  const existing = await io.get<NamespaceObject>(Paths.namespace(namespace));
  if (!existing) {
    await io.post("/api/v1/namespaces", {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: namespace, labels: wanted },
    });
    return;
  }
  const labels = existing.metadata.labels ?? {};
  const added = Object.keys(wanted).filter((k) => labels[k] === undefined);
  if (added.length === 0 && labels[Labels.ManagedBy] === MANAGED_BY_VALUE) return;
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

/**
 * The provider identity: a ServiceAccount whose cluster-wide rules are fenced by admission policies, who
 * administers the namespaces it manages (its own included), and the cluster roles it may hand out.
 */
export async function setUpProvider(
  io: ClusterIO,
  ref: IdentityRef,
  extraGroups: readonly string[],
  options: ProviderOptions = {},
): Promise<void> {
  const existing = await io.get<{ subjects?: { namespace?: string }[] }>(
    Paths.clusterRoleBinding(AccessNames.Provider),
  );
  const other = existing?.subjects?.find((s) => s.namespace !== ref.namespace)?.namespace;
  if (other)
    throw new Error(
      `a KubePlus provider already exists in namespace ${other} (one per cluster): delete it first with provider-kubeconfig delete ${other}`,
    );
  await ensureManagedNamespace(io, ref.namespace);
  await ensureServiceAccount(io, ref);
  for (const manifest of providerPolicies(ref.namespace, extraGroups, options))
    await io.apply({ ...manifest, metadata: { ...manifest.metadata, labels: labelsOf(ref) } });
  await io.apply(
    clusterRole(AccessNames.Provider, providerClusterRules(extraGroups, options), ref),
  );
  await io.apply(clusterRole(AccessNames.TenantRole, tenantRules(), ref));
  await io.apply(clusterRole(AccessNames.InstanceViewerRole, instanceViewerRules(), ref));
  // Grants made since (kubectl grantpermission consumer) are kept: the role is created only when missing.
  if (!(await io.get(Paths.clusterRole(AccessNames.ConsumerInstancesRole))))
    await io.apply(clusterRole(AccessNames.ConsumerInstancesRole, [], ref));
  await io.apply(binding(ref, AccessNames.Provider, AccessNames.Provider));
  await io.apply(binding(ref, AccessNames.TenantRole, AccessNames.TenantRole, ref.namespace));
  await writePermissionRecord(io, ref);
}

/** A consumer: a ServiceAccount in its namespace that may manage the instance kinds granted to consumers there. */
export async function setUpConsumer(io: ClusterIO, ref: IdentityRef): Promise<void> {
  if (!(await io.get(Paths.clusterRole(AccessNames.ConsumerInstancesRole))))
    throw new Error(
      `the cluster role ${AccessNames.ConsumerInstancesRole} is missing: set up the provider first (provider-kubeconfig create <namespace>)`,
    );
  await ensureManagedNamespace(io, ref.namespace);
  await ensureServiceAccount(io, ref);
  await io.apply(
    binding(ref, ref.serviceAccount, AccessNames.ConsumerInstancesRole, ref.namespace),
  );
  await writePermissionRecord(io, ref);
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

export type RevokeOutcome = "revoked" | "nothing-to-revoke" | "no-roles";

/** Takes permissions away (`revoke -p`): from the update role first, else from the base role (provider). */
export async function revokePermissions(
  io: ClusterIO,
  ref: IdentityRef,
  rules: readonly PolicyRule[],
): Promise<RevokeOutcome> {
  const provider = entityOf(ref.serviceAccount) === "provider";
  const candidates = [
    { role: updateRoleName(ref), bindingPath: updateBindingPath(ref) },
    ...(provider
      ? [
          {
            role: AccessNames.Provider,
            bindingPath: Paths.clusterRoleBinding(AccessNames.Provider),
          },
        ]
      : []),
  ];
  let anyRole = false;
  for (const { role, bindingPath } of candidates) {
    const existing = await rulesOf(io, role);
    if (!existing) continue;
    anyRole = true;
    const remaining = revokeRules(existing, rules);
    if (sameRules(existing, remaining)) continue;
    if (remaining.length === 0) {
      await io.delete(Paths.clusterRole(role));
      await io.delete(bindingPath);
    } else {
      await io.apply(clusterRole(role, remaining, ref));
    }
    await writePermissionRecord(io, ref);
    return "revoked";
  }
  return anyRole ? "nothing-to-revoke" : "no-roles";
}

/** The `<sa>-perms` ConfigMap: the resource names the identity's roles mention (the original's record). */
async function writePermissionRecord(io: ClusterIO, ref: IdentityRef): Promise<void> {
  const roles =
    entityOf(ref.serviceAccount) === "provider"
      ? [AccessNames.Provider, updateRoleName(ref)]
      : [AccessNames.ConsumerInstancesRole, updateRoleName(ref)];
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

/** Everything `create` and `update` made for the identity goes; the namespace stays (as in the original). */
export async function deleteIdentity(io: ClusterIO, ref: IdentityRef): Promise<void> {
  const { namespace, serviceAccount: sa } = ref;
  await io.delete(Paths.serviceAccount(namespace, sa));
  await io.delete(Paths.secret(namespace, kubeconfigSecretName(sa)));
  await io.delete(Paths.secret(namespace, `${sa}-token`));
  await io.delete(Paths.configMap(namespace, `${sa}-perms`));
  await io.delete(Paths.clusterRole(updateRoleName(ref)));
  await io.delete(updateBindingPath(ref));
  if (entityOf(sa) === "consumer") {
    await io.delete(Paths.roleBinding(namespace, sa));
    return;
  }
  await io.delete(Paths.clusterRoleBinding(AccessNames.Provider));
  // Tenant bindings the helmer made in the namespaces it manages carry the identity label.
  const bindings = await io.get<{ items: { metadata: { name: string; namespace: string } }[] }>(
    `/apis/rbac.authorization.k8s.io/v1/rolebindings?labelSelector=${encodeURIComponent(`${IDENTITY_LABEL}=${sa}`)}`,
  );
  for (const b of bindings?.items ?? [])
    await io.delete(Paths.roleBinding(b.metadata.namespace, b.metadata.name));
  for (const role of [
    AccessNames.Provider,
    AccessNames.TenantRole,
    AccessNames.InstanceViewerRole,
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
