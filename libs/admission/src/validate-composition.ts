import { parseQuantity, PLATFORM_GROUP, type ResourceComposition } from "@kubeplus/api";
import {
  lintChartCrds,
  lintRendered,
  PROBE_NAMESPACE,
  type LintContext,
  type RbacRuleSet,
} from "@kubeplus/charts";
import { ContractError, ErrorCode, type RenderReply } from "@kubeplus/contracts";
import { OriginalText, withOriginal } from "./original-messages.js";
import { quotaCoverageErrors } from "./quota-coverage.js";
import { quotaFitWarnings } from "./quota-fit.js";
import type { FieldError, ValidationResult } from "./result.js";

export interface ServedResource {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  readonly plural: string;
}

export interface UserInfo {
  readonly username?: string;
  readonly groups?: string[];
}

/** What validating a composition needs from the world (the cluster, the helmer); injected, so tests need no HTTP. */
export interface CompositionDeps {
  servedResources(): Promise<readonly ServedResource[]>;
  /** The composition (`namespace/name`) that registered the CRD `<plural>.<group>`, if KubePlus made it. */
  crdOwner(plural: string, group: string): string | undefined;
  render(chartURL: string, chartName: string): Promise<RenderReply>;
  lintContext(allow: ReadonlySet<string>): LintContext;
  /** Rules of the chart's Roles/ClusterRoles that the user may not grant, described for a human. */
  missingPermissions(
    rbac: readonly RbacRuleSet[],
    user: UserInfo,
    namespace: string,
  ): Promise<string[]>;
  /** Total allocatable CPU (cores) and memory (bytes) of the cluster's nodes. */
  allocatable(): { cpu: number; memory: number };
}

const KIND = /^[A-Z][A-Za-z0-9]*$/;
const DNS_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$/;
const VERSION = /^v[1-9][0-9]*((alpha|beta)[1-9][0-9]*)?$/;
/** Leaves room for instance names: releases are `<kind>-<instance>`, at most 53 characters. */
export const MAX_KIND_LENGTH = 40;

const NR = "spec.newResource";

function validateNames(rc: ResourceComposition): FieldError[] {
  const { kind, group, version, plural } = rc.spec.newResource.resource;
  const errors: FieldError[] = [];
  if (!KIND.test(kind)) {
    const ours = `'${kind}' is not a valid kind: use letters and digits, starting with an upper-case letter (e.g. WordpressService)`;
    errors.push({
      path: `${NR}.resource.kind`,
      detail: kind.includes(".") ? withOriginal(OriginalText.kindPeriod(kind), ours) : ours,
    });
  } else if (kind.length > MAX_KIND_LENGTH) {
    errors.push({
      path: `${NR}.resource.kind`,
      detail: withOriginal(
        OriginalText.kindLength(MAX_KIND_LENGTH),
        `'${kind}' has ${kind.length} characters; use at most ${MAX_KIND_LENGTH} so that instance names still fit in Helm release names (<kind>-<instance>, 53 at most)`,
      ),
    });
  }
  if (!DNS_LABEL.test(plural) || plural.length > 63) {
    errors.push({
      path: `${NR}.resource.plural`,
      detail: `'${plural}' is not a valid plural: use lower-case letters, digits and '-', at most 63 (e.g. wordpressservices)`,
    });
  } else if (plural !== plural.toLowerCase()) {
    errors.push({ path: `${NR}.resource.plural`, detail: `'${plural}' must be lower case` });
  }
  if (!DNS_SUBDOMAIN.test(group) || group.length > 253) {
    errors.push({
      path: `${NR}.resource.group`,
      detail: `'${group}' is not a valid API group: use a lower-case DNS name with at least one dot (e.g. platformapi.kubeplus)`,
    });
  } else if (group === PLATFORM_GROUP) {
    errors.push({
      path: `${NR}.resource.group`,
      detail: `'${PLATFORM_GROUP}' is reserved for KubePlus's own kinds; use another group such as platformapi.kubeplus`,
    });
  }
  if (!VERSION.test(version)) {
    errors.push({
      path: `${NR}.resource.version`,
      detail: `'${version}' is not a valid API version (e.g. v1, v1alpha1, v2beta1)`,
    });
  }
  return errors;
}

function validateImmutable(
  rc: ResourceComposition,
  old: ResourceComposition | undefined,
): FieldError[] {
  if (!old) return [];
  const before = old.spec.newResource.resource;
  const after = rc.spec.newResource.resource;
  return (["kind", "group", "version", "plural"] as const)
    .filter((f) => before[f] !== after[f])
    .map((f) => ({
      path: `${NR}.resource.${f}`,
      detail: `cannot change from '${before[f]}' to '${after[f]}': existing instances use the registered API; create a new ResourceComposition for a new API`,
    }));
}

async function validateUniqueness(
  rc: ResourceComposition,
  deps: CompositionDeps,
): Promise<FieldError[]> {
  const { kind, group, plural } = rc.spec.newResource.resource;
  const self = `${rc.metadata.namespace ?? ""}/${rc.metadata.name ?? ""}`;
  const served = await deps.servedResources();
  const errors: FieldError[] = [];
  const clash = (r: ServedResource): boolean => deps.crdOwner(r.plural, r.group) !== self;
  const sameKind = served.find((r) => r.kind === kind && clash(r));
  if (sameKind) {
    errors.push({
      path: `${NR}.resource.kind`,
      detail: withOriginal(
        OriginalText.kindExists(kind),
        `kind ${kind} is already served by the cluster (${sameKind.plural}.${sameKind.group || "core"}/${sameKind.version}); choose another kind`,
      ),
    });
  }
  const samePlural = served.find((r) => r.plural === plural && clash(r));
  if (samePlural) {
    errors.push({
      path: `${NR}.resource.plural`,
      detail: withOriginal(
        OriginalText.pluralExists(plural),
        `plural ${plural} is already served by the cluster (kind ${samePlural.kind} in ${samePlural.group || "core"}); choose another plural`,
      ),
    });
  } else if (
    !sameKind &&
    deps.crdOwner(plural, group) === undefined &&
    served.some((r) => r.plural === plural && r.group === group)
  ) {
    errors.push({
      path: `${NR}.resource.plural`,
      detail: `${plural}.${group} is served by a CRD KubePlus did not create`,
    });
  }
  return errors;
}

function renderError(err: unknown): FieldError {
  if (
    err instanceof ContractError &&
    (err.code === ErrorCode.Unavailable || err.code === ErrorCode.Timeout)
  ) {
    return {
      path: `${NR}.chartURL`,
      detail: `the chart renderer (helmer) is unavailable, retry in a moment (${err.message})`,
    };
  }
  return { path: `${NR}.chartURL`, detail: err instanceof Error ? err.message : String(err) };
}

/**
 * The chart's defaults, rendered in the probe namespace, under the same isolation and tenancy rules as every
 * instance's helm run, and its crds/ folder.
 */
function lintChart(
  rc: ResourceComposition,
  rendered: RenderReply,
  deps: CompositionDeps,
): { problems: { path: string; message: string }[] } & Pick<
  ReturnType<typeof lintRendered>,
  "warnings" | "rbac"
> {
  const isolation = rc.spec.isolation;
  const lint = lintRendered(
    rendered.objects.map((object) => ({ object })),
    {
      ...deps.lintContext(new Set(isolation?.allow ?? [])),
      tenancy: {
        namespace: PROBE_NAMESPACE,
        allowClusterRoles: new Set(isolation?.allowClusterRoles ?? []),
        reservedServiceAccounts: new Set(),
      },
    },
  );
  return {
    ...lint,
    problems: [
      ...lint.problems,
      ...lintChartCrds(rendered.crds ?? [], new Set(isolation?.crdGroups ?? [])),
    ],
  };
}

async function validateChart(
  rc: ResourceComposition,
  user: UserInfo,
  deps: CompositionDeps,
): Promise<ValidationResult> {
  const { chartURL, chartName } = rc.spec.newResource;
  let rendered: RenderReply;
  try {
    rendered = await deps.render(chartURL, chartName);
  } catch (err) {
    return { errors: [renderError(err)], warnings: [] };
  }
  const lint = lintChart(rc, rendered, deps);
  const errors: FieldError[] = lint.problems.map((p) => ({
    path: `chart ${chartName}: ${p.path}`,
    detail: p.message,
  }));
  const missing = await deps.missingPermissions(lint.rbac, user, rc.metadata.namespace ?? "");
  if (missing.length > 0) {
    errors.push({
      path: `chart ${chartName}: RBAC`,
      detail: withOriginal(
        OriginalText.missingPermissions,
        `the chart grants permissions you do not have (${missing.join("; ")}); ask a cluster admin to grant them to you (provider-kubeconfig update <namespace> -p <file>) or remove them from the chart`,
      ),
    });
  }
  const policy = rc.spec.respolicy?.spec?.policy;
  errors.push(...quotaCoverageErrors(rendered.objects, policy?.quota, policy?.podconfig));
  return {
    errors,
    warnings: [
      ...lint.warnings.map((w) => `chart ${chartName}: ${w.path}: ${w.message}`),
      ...quotaFitWarnings(rendered.objects, policy?.quota, policy?.podconfig),
    ],
  };
}

const QUOTA_KEYS = ["requests.cpu", "requests.memory", "limits.cpu", "limits.memory"] as const;

function quantityError(path: string, value: unknown): FieldError | undefined {
  if (typeof value !== "string" && typeof value !== "number") return undefined;
  return parseQuantity(value) === undefined
    ? { path, detail: `'${String(value)}' is not a Kubernetes quantity (e.g. 500m, 2, 1Gi)` }
    : undefined;
}

const quantityOf = (value: unknown): number | undefined =>
  typeof value === "string" || typeof value === "number" ? parseQuantity(value) : undefined;

function compareRequestLimit(
  path: string,
  request: unknown,
  limit: unknown,
  what: string,
): FieldError | undefined {
  const r = quantityOf(request);
  const l = quantityOf(limit);
  if (r === undefined || l === undefined || r <= l) return undefined;
  return {
    path,
    detail: `requests.${what} (${String(request)}) is more than limits.${what} (${String(limit)})`,
  };
}

function capacityErrors(
  path: string,
  quota: Record<string, unknown>,
  deps: CompositionDeps,
): FieldError[] {
  const capacity = deps.allocatable();
  return QUOTA_KEYS.flatMap((key) => {
    const isCpu = key.endsWith("cpu");
    const total = isCpu ? capacity.cpu : capacity.memory;
    if ((quantityOf(quota[key]) ?? 0) <= total) return [];
    const what = isCpu ? `${total} CPU` : `${total} bytes of memory`;
    const original = isCpu ? OriginalText.cpuCapacity : OriginalText.memoryCapacity;
    return [
      {
        path: `${path}.${key}`,
        detail: withOriginal(
          original,
          `${String(quota[key])} is more than the cluster's allocatable ${what}`,
        ),
      },
    ];
  });
}

function requestLimitErrors(
  path: string,
  requests: Record<string, unknown>,
  limits: Record<string, unknown>,
): FieldError[] {
  return (["cpu", "memory"] as const)
    .map((what) => compareRequestLimit(path, requests[what], limits[what], what))
    .filter((e): e is FieldError => !!e);
}

function validateQuota(rc: ResourceComposition, deps: CompositionDeps): FieldError[] {
  const quota = rc.spec.respolicy?.spec?.policy?.quota as Record<string, unknown> | undefined;
  if (!quota) return [];
  const path = "spec.respolicy.spec.policy.quota";
  const given = QUOTA_KEYS.filter((k) => quota[k] !== undefined && quota[k] !== "");
  if (given.length === 0) return [];
  if (given.length < QUOTA_KEYS.length) {
    const missing = QUOTA_KEYS.filter((k) => !given.includes(k));
    return [
      {
        path,
        detail: withOriginal(
          OriginalText.incompleteQuota,
          `give all four values or none: ${missing.join(", ")} missing`,
        ),
      },
    ];
  }
  const errors = QUOTA_KEYS.map((k) => quantityError(`${path}.${k}`, quota[k])).filter(
    (e): e is FieldError => !!e,
  );
  if (errors.length > 0) return errors;
  const requests = { cpu: quota["requests.cpu"], memory: quota["requests.memory"] };
  const limits = { cpu: quota["limits.cpu"], memory: quota["limits.memory"] };
  return [...requestLimitErrors(path, requests, limits), ...capacityErrors(path, quota, deps)];
}

function nodeSelectorError(path: string, selector: string | undefined): FieldError[] {
  if (
    !selector ||
    /^values\.[A-Za-z_][\w.-]*$/.test(selector) ||
    /^[\w./-]+=[\w.-]*$/.test(selector)
  )
    return [];
  return [
    {
      path: `${path}.nodeSelector`,
      detail: `'${selector}' is neither values.<field> (the node name comes from each instance's spec) nor a key=value node label`,
    },
  ];
}

function validatePodConfig(rc: ResourceComposition): FieldError[] {
  const pod = rc.spec.respolicy?.spec?.policy?.podconfig;
  if (!pod) return [];
  const path = "spec.respolicy.spec.policy.podconfig";
  const requests = (pod.requests ?? {}) as Record<string, unknown>;
  const limits = (pod.limits ?? {}) as Record<string, unknown>;
  const quantities = [
    ...(["cpu", "memory"] as const).map((w) => quantityError(`${path}.requests.${w}`, requests[w])),
    ...(["cpu", "memory"] as const).map((w) => quantityError(`${path}.limits.${w}`, limits[w])),
  ].filter((e): e is FieldError => !!e);
  const ordering = quantities.length === 0 ? requestLimitErrors(path, requests, limits) : [];
  return [...quantities, ...ordering, ...nodeSelectorError(path, pod.nodeSelector)];
}

/**
 * Validates a ResourceComposition create or update: names, uniqueness in the cluster, the chart (fetched and
 * rendered by the helmer, then linted for tenant safety and RBAC), quota and pod policy. Reports every problem.
 */
export async function validateComposition(
  rc: ResourceComposition,
  old: ResourceComposition | undefined,
  user: UserInfo,
  deps: CompositionDeps,
): Promise<ValidationResult> {
  if (old && JSON.stringify(old.spec) === JSON.stringify(rc.spec))
    return { errors: [], warnings: [] };
  const nameErrors = [...validateNames(rc), ...validateImmutable(rc, old)];
  const [uniqueness, chart] = await Promise.all([
    validateUniqueness(rc, deps),
    validateChart(rc, user, deps),
  ]);
  return {
    errors: [
      ...nameErrors,
      ...uniqueness,
      ...chart.errors,
      ...validateQuota(rc, deps),
      ...validatePodConfig(rc),
    ],
    warnings: chart.warnings,
  };
}
