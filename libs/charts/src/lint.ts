import { podSpecOf } from "./pod-spec.js";
import type { RenderedObject } from "./render.js";
import { lintTenancy, type TenancyContext } from "./tenancy.js";

export { podSpecOf };

/** Chart features that weaken tenant isolation; a composition may opt into each (`spec.isolation.allow`). */
export const HostAccess = {
  HostPath: "hostPath",
  HostNetwork: "hostNetwork",
  HostPID: "hostPID",
  Privileged: "privileged",
} as const;
export type HostAccess = (typeof HostAccess)[keyof typeof HostAccess];

export interface StorageClassInfo {
  readonly reclaimPolicy: string;
  readonly isDefault: boolean;
}

export interface LintContext {
  readonly allow: ReadonlySet<string>;
  readonly storageClasses: ReadonlyMap<string, StorageClassInfo>;
  /** From discovery: true/false, or undefined when the kind is unknown to the cluster. */
  readonly isNamespaced: (apiVersion: string, kind: string) => boolean | undefined;
  /** The instance's namespace and what a chart may bind and run as there (see lintTenancy). */
  readonly tenancy?: TenancyContext;
}

export interface LintFinding {
  /** Which object (`Kind/name`) and where in it. */
  readonly path: string;
  readonly message: string;
}

export interface RbacRuleSet {
  readonly object: string;
  readonly rules: readonly Record<string, unknown>[];
}

export interface LintResult {
  readonly problems: LintFinding[];
  readonly warnings: LintFinding[];
  /** Rules of the chart's Roles and ClusterRoles: the caller checks them against the provider's permissions. */
  readonly rbac: RbacRuleSet[];
}

/** Well-known cluster-scoped kinds, for when discovery does not know a kind. */
const KNOWN_CLUSTER_SCOPED = new Set([
  "Namespace",
  "Node",
  "PersistentVolume",
  "StorageClass",
  "ClusterRole",
  "ClusterRoleBinding",
  "CustomResourceDefinition",
  "MutatingWebhookConfiguration",
  "ValidatingWebhookConfiguration",
  "ValidatingAdmissionPolicy",
  "ValidatingAdmissionPolicyBinding",
  "PriorityClass",
  "IngressClass",
  "RuntimeClass",
  "APIService",
  "CSIDriver",
  "VolumeAttachment",
]);

type Obj = Record<string, unknown>;

const asObj = (v: unknown): Obj | undefined =>
  v && typeof v === "object" && !Array.isArray(v) ? (v as Obj) : undefined;
const asArray = (v: unknown): Obj[] =>
  Array.isArray(v) ? v.filter((x): x is Obj => asObj(x) !== undefined) : [];
const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

function idOf(o: Obj): string {
  return `${str(o.kind) ?? "?"}/${str(asObj(o.metadata)?.name) ?? "?"}`;
}

function lintPodSpec(o: Obj, ctx: LintContext, problems: LintFinding[]): void {
  const pod = podSpecOf(o);
  if (!pod) return;
  const id = idOf(o);
  const deny = (what: HostAccess, where: string, message: string): void => {
    if (!ctx.allow.has(what)) {
      problems.push({
        path: `${id} ${pod.at}.${where}`,
        message: `${message}; tenants must not reach the node (set spec.isolation.allow: [${what}] in the composition to accept it)`,
      });
    }
  };
  if (pod.spec.hostNetwork === true)
    deny(HostAccess.HostNetwork, "hostNetwork", "uses the node's network (hostNetwork)");
  if (pod.spec.hostPID === true)
    deny(HostAccess.HostPID, "hostPID", "shares the node's process namespace (hostPID)");
  if (pod.spec.hostIPC === true)
    deny(HostAccess.HostPID, "hostIPC", "shares the node's IPC namespace (hostIPC)");
  asArray(pod.spec.volumes).forEach((v, i) => {
    if (asObj(v.hostPath)) {
      deny(
        HostAccess.HostPath,
        `volumes[${i}].hostPath`,
        `mounts the node path '${str(asObj(v.hostPath)?.path) ?? ""}' (hostPath), which instances would share`,
      );
    }
  });
  for (const field of ["initContainers", "containers", "ephemeralContainers"]) {
    asArray(pod.spec[field]).forEach((c, i) => {
      const sc = asObj(c.securityContext);
      if (sc?.privileged === true)
        deny(
          HostAccess.Privileged,
          `${field}[${i}].securityContext.privileged`,
          `runs container '${str(c.name) ?? i}' privileged`,
        );
    });
  }
}

function defaultStorageClass(ctx: LintContext): string | undefined {
  for (const [name, info] of ctx.storageClasses) if (info.isDefault) return name;
  return undefined;
}

function lintClaim(
  claim: { id: string; at: string; spec: Obj },
  ctx: LintContext,
  out: LintResult,
): void {
  const { id, at, spec } = claim;
  if (str(spec.volumeName)) {
    out.problems.push({
      path: `${id} ${at}.volumeName`,
      message: `binds the fixed volume '${str(spec.volumeName) ?? ""}', which every instance would share; let each instance's claim get its own volume`,
    });
  }
  if (asObj(spec.selector)) {
    out.problems.push({
      path: `${id} ${at}.selector`,
      message:
        "selects existing volumes by label, which lets instances share a volume; remove the selector",
    });
  }
  const explicit = str(spec.storageClassName);
  const className = explicit ?? defaultStorageClass(ctx);
  if (explicit === "") return; // static binding only, refused above if it names a volume
  if (!className) {
    out.warnings.push({
      path: `${id} ${at}`,
      message:
        "names no storage class and the cluster has no default one; its claims will stay Pending",
    });
    return;
  }
  const info = ctx.storageClasses.get(className);
  if (!info) {
    out.warnings.push({
      path: `${id} ${at}.storageClassName`,
      message: `storage class '${className}' does not exist in the cluster`,
    });
    return;
  }
  if (info.reclaimPolicy.toLowerCase() !== "delete") {
    out.problems.push({
      path: `${id} ${at}.storageClassName`,
      // The original KubePlus's words first (users' scripts look for them), then ours.
      message: `Storage class with reclaim policy ${info.reclaimPolicy} not allowed. Storage class '${className}' has reclaimPolicy ${info.reclaimPolicy}; a deleted instance's data would outlive it and could be bound by another tenant: use a class whose reclaimPolicy is Delete`,
    });
  }
}

function lintStorage(o: Obj, ctx: LintContext, out: LintResult): void {
  const kind = str(o.kind);
  const id = idOf(o);
  if (kind === "PersistentVolumeClaim")
    lintClaim({ id, at: "spec", spec: asObj(o.spec) ?? {} }, ctx, out);
  if (kind === "StatefulSet") {
    asArray(asObj(o.spec)?.volumeClaimTemplates).forEach((t, i) => {
      lintClaim(
        { id, at: `spec.volumeClaimTemplates[${i}].spec`, spec: asObj(t.spec) ?? {} },
        ctx,
        out,
      );
    });
  }
}

function lintScope(o: Obj, ctx: LintContext, out: LintResult): void {
  const kind = str(o.kind) ?? "";
  const id = idOf(o);
  if (kind === "Namespace") {
    out.problems.push({
      path: id,
      // The original KubePlus's words first (users' scripts look for them), then ours.
      message:
        "Namespace object is not allowed in the chart. The chart creates a Namespace; KubePlus gives every instance its own namespace: remove the Namespace from the chart",
    });
    return;
  }
  if (kind === "PersistentVolume") {
    out.problems.push({
      path: id,
      message:
        "the chart creates a PersistentVolume with a fixed name, which every instance would share; use PersistentVolumeClaims with a storage class",
    });
    return;
  }
  const namespaced =
    ctx.isNamespaced(str(o.apiVersion) ?? "", kind) ?? !KNOWN_CLUSTER_SCOPED.has(kind);
  if (!namespaced) {
    out.problems.push({
      path: id,
      message: `${kind} is cluster-scoped: a chart runs with rights in its instance's namespace only, and instances would share or clash over it; remove it from the chart or the values (a ClusterRole becomes a Role, a ClusterRoleBinding a RoleBinding)`,
    });
  }
}

/**
 * The tenant-safety lint of a rendered chart. Pure: cluster facts (storage classes, API scopes) come in `ctx`.
 * Every problem names the object and field and says what to change.
 */
export function lintRendered(objects: readonly RenderedObject[], ctx: LintContext): LintResult {
  const out: LintResult = { problems: [], warnings: [], rbac: [] };
  for (const { object } of objects) {
    lintScope(object, ctx, out);
    lintStorage(object, ctx, out);
    lintPodSpec(object, ctx, out.problems);
    const kind = str(object.kind);
    if (kind === "Role" || kind === "ClusterRole") {
      out.rbac.push({ object: idOf(object), rules: asArray(object.rules) });
    }
  }
  if (ctx.tenancy) out.problems.push(...lintTenancy(objects, ctx.tenancy));
  return out;
}
