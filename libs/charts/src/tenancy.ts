/**
 * What a chart may do inside a tenant's namespace, and nothing outside it. Pure: the rendered objects of one helm run
 * (the chart with one instance's values) and the instance's namespace in, problems out. The helmer runs this at helm's
 * post-render step, before anything is applied, and crd-hook on the chart's defaults when a composition is registered.
 *
 * A tenant's values and a provider's chart are untrusted input: a value such as `namespaceOverride`, `extraDeploy` or
 * a `tpl` string can put any object anywhere, so every rule here is about the rendered objects, never about which
 * value produced them.
 */
import { podSpecOf } from "./pod-spec.js";
import type { RenderedObject } from "./render.js";

type Obj = Record<string, unknown>;

/** Release and namespace a chart is rendered with when no instance is named (admission renders the defaults). */
export const PROBE_RELEASE = "kubeplus-probe";
export const PROBE_NAMESPACE = "kubeplus-probe";

export interface TenancyContext {
  /** The namespace the release lives in: the instance's own. */
  readonly namespace: string;
  /** ClusterRoles a chart's RoleBindings may bind (the composition's `spec.isolation.allowClusterRoles`). */
  readonly allowClusterRoles: ReadonlySet<string>;
  /** ServiceAccounts of the instance namespace that KubePlus owns (charts must never run as them). */
  readonly reservedServiceAccounts: ReadonlySet<string>;
}

export interface TenancyFinding {
  readonly path: string;
  readonly message: string;
}

const asObj = (v: unknown): Obj | undefined =>
  v && typeof v === "object" && !Array.isArray(v) ? (v as Obj) : undefined;
const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

const idOf = (o: Obj): string => `${str(o.kind) ?? "?"}/${str(asObj(o.metadata)?.name) ?? "?"}`;

function checkNamespace(o: Obj, ctx: TenancyContext, out: TenancyFinding[]): void {
  const ns = str(asObj(o.metadata)?.namespace);
  if (ns === undefined || ns === "" || ns === ctx.namespace) return;
  out.push({
    path: `${idOf(o)} metadata.namespace`,
    message: `is '${ns}', outside this instance's namespace '${ctx.namespace}'; a chart's objects live only in their instance's namespace: remove the namespace (for example namespaceOverride, or an object in extraDeploy) from the values or the chart`,
  });
}

function checkBinding(
  o: Obj,
  ctx: TenancyContext,
  chartRoles: ReadonlySet<string>,
  out: TenancyFinding[],
): void {
  if (str(o.kind) !== "RoleBinding") return;
  const ref = asObj(o.roleRef) ?? {};
  const kind = str(ref.kind) ?? "";
  const name = str(ref.name) ?? "";
  if (kind === "Role" && chartRoles.has(name)) return;
  if (kind === "ClusterRole" && ctx.allowClusterRoles.has(name)) return;
  const allowed = [...ctx.allowClusterRoles].sort();
  out.push({
    path: `${idOf(o)} roleRef`,
    message:
      kind === "Role"
        ? `binds Role '${name}', which this chart does not create; bind a Role the chart creates`
        : `binds ClusterRole '${name}', which the composition does not allow (allowed: ${allowed.length > 0 ? allowed.join(", ") : "none"}); bind a Role the chart creates, or add '${name}' to the composition's spec.isolation.allowClusterRoles`,
  });
}

interface Accounts {
  /** A ServiceAccount a pod of this chart may run as. */
  readonly usable: (name: string) => boolean;
}

function checkPodAccount(o: Obj, accounts: Accounts, out: TenancyFinding[]): void {
  const pod = podSpecOf(o);
  if (!pod) return;
  const { spec, at } = pod;
  const field =
    str(spec.serviceAccountName) !== undefined ? "serviceAccountName" : "serviceAccount";
  const name = str(spec[field]) ?? "";
  if (name === "" || accounts.usable(name)) return;
  out.push({
    path: `${idOf(o)} ${at}.${field}`,
    message: `runs as ServiceAccount '${name}', which this chart does not create; a chart's pods run only as ServiceAccounts the chart creates (or 'default'): create it in the chart, or remove ${field}`,
  });
}

/** A legacy token Secret is filled by the cluster with the named ServiceAccount's token. */
function checkTokenSecret(o: Obj, accounts: Accounts, out: TenancyFinding[]): void {
  if (str(o.kind) !== "Secret" || str(o.type) !== "kubernetes.io/service-account-token") return;
  const annotations = (asObj(asObj(o.metadata)?.annotations) ?? {}) as Record<string, unknown>;
  const name = str(annotations["kubernetes.io/service-account.name"]) ?? "";
  if (name !== "default" && accounts.usable(name)) return;
  out.push({
    path: `${idOf(o)} metadata.annotations`,
    message: `asks the cluster for a token of ServiceAccount '${name}', which this chart does not create; a chart may request tokens only for ServiceAccounts it creates`,
  });
}

function namesOf(objects: readonly RenderedObject[], kind: string): Set<string> {
  return new Set(
    objects
      .filter(({ object }) => str(object.kind) === kind)
      .map(({ object }) => str(asObj(object.metadata)?.name) ?? ""),
  );
}

/**
 * Every object stays in the instance's namespace; RoleBindings bind only Roles the chart creates or ClusterRoles the
 * composition allows; pods (and token Secrets) use only ServiceAccounts the chart creates, never KubePlus's own.
 * Cluster-scoped kinds are refused by the isolation lint (`lintRendered`), which knows the cluster's API scopes.
 */
export function lintTenancy(
  objects: readonly RenderedObject[],
  ctx: TenancyContext,
): TenancyFinding[] {
  const out: TenancyFinding[] = [];
  const chartRoles = namesOf(objects, "Role");
  const chartAccounts = namesOf(objects, "ServiceAccount");
  const accounts: Accounts = {
    usable: (name) =>
      !ctx.reservedServiceAccounts.has(name) && (name === "default" || chartAccounts.has(name)),
  };
  for (const { object } of objects) {
    checkNamespace(object, ctx, out);
    checkBinding(object, ctx, chartRoles, out);
    checkPodAccount(object, accounts, out);
    checkTokenSecret(object, accounts, out);
  }
  return out;
}

/**
 * A chart's `crds/` documents: only CustomResourceDefinitions of the groups the composition declares
 * (`spec.isolation.crdGroups`), without a conversion webhook. KubePlus applies them itself with the provider's identity,
 * so anything else there would be created by the provider on the chart's say-so.
 */
export function lintChartCrds(
  crds: readonly Record<string, unknown>[],
  groups: ReadonlySet<string>,
): TenancyFinding[] {
  const out: TenancyFinding[] = [];
  const allowed = [...groups].sort();
  crds.forEach((doc, i) => {
    const path = `crds/ document ${i + 1} (${idOf(doc)})`;
    const apiVersion = str(doc.apiVersion) ?? "";
    if (
      str(doc.kind) !== "CustomResourceDefinition" ||
      !apiVersion.startsWith("apiextensions.k8s.io/")
    ) {
      out.push({
        path,
        message: `is a ${str(doc.kind) ?? "document without a kind"} (${apiVersion || "no apiVersion"}); a chart's crds/ folder may hold only CustomResourceDefinitions: move it to templates/`,
      });
      return;
    }
    const spec = asObj(doc.spec) ?? {};
    const group = str(spec.group) ?? "";
    if (!groups.has(group)) {
      out.push({
        path: `${path} spec.group`,
        message: `registers API group '${group}', which the composition does not declare (declared: ${allowed.length > 0 ? allowed.join(", ") : "none"}); add it to the composition's spec.isolation.crdGroups (the provider must also be allowed it: provider-kubeconfig create --crd-group ${group})`,
      });
    }
    if (str(asObj(spec.conversion)?.strategy) === "Webhook")
      out.push({
        path: `${path} spec.conversion`,
        message:
          "calls a conversion webhook, which would run outside the instance's namespace; use strategy None",
      });
  });
  return out;
}
