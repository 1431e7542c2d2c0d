import {
  ConditionType,
  setCondition,
  targetNamespaceFor,
  type InstanceRef,
  type NamespaceOwnership,
  type Condition,
  type Instance,
  type InstanceStatus,
  type ResourceComposition,
} from "@kubeplus/api";
import { parseManifests, type FetchedChart, type RenderedObject } from "@kubeplus/charts";
import type { RequestOf } from "@kubeplus/contracts";
import { apiErrorMessage } from "@kubeplus/kube/lite";
import { podPolicyFor, type PodPolicy } from "../policy/pod-policy.js";
import { failedOn, type FleetDecision } from "./fleet.js";
import {
  planInstance,
  releasePlan,
  type InstancePlan,
  type ServiceAccountRef,
} from "./instance-desired.js";
import type { ReconcileResult } from "./work-queue.js";
import { describeNotReady, type NotReadyObject } from "./readiness.js";

/** Finalizer on every instance: its release and namespace go before it does. */
export const INSTANCE_FINALIZER = "workflows.kubeplus/finalizer";

export const InstanceReason = {
  Ready: "Ready",
  Installing: "Installing",
  Upgrading: "Upgrading",
  Progressing: "Progressing",
  Recovering: "Recovering",
  InstallFailed: "InstallFailed",
  UpgradeFailed: "UpgradeFailed",
  IsolationRefused: "IsolationRefused",
  ChartUnavailable: "ChartUnavailable",
  UpgradePending: "UpgradePending",
  UpgradeHalted: "UpgradeHalted",
  Deleting: "Deleting",
  CompositionNotReady: "CompositionNotReady",
  /** The instance's namespace exists and is not this instance's, or its name is reserved. */
  NamespaceConflict: "NamespaceConflict",
  /** The namespace of an earlier instance of the same name is still being deleted. */
  NamespaceTerminating: "NamespaceTerminating",
  /** An object of the release failed (a Job, a rollout past its progress deadline): only a change or a resync retries. */
  ProgressFailed: "ProgressFailed",
} as const;

/** Reasons after which only a change (of the spec or the composition's chart) helps: kstatus Stalled. */
const STALLED = new Set<string>([
  InstanceReason.InstallFailed,
  InstanceReason.UpgradeFailed,
  InstanceReason.IsolationRefused,
  InstanceReason.ChartUnavailable,
  InstanceReason.NamespaceConflict,
  InstanceReason.ProgressFailed,
]);

type Obj = Record<string, unknown> & {
  apiVersion: string;
  kind: string;
  metadata: Record<string, unknown>;
};

/**
 * Helm's render of the instance would break tenant isolation: helm stopped at its post-render step, before it created
 * or changed anything.
 */
export class IsolationRefusal extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(
      `refused: the chart, with this instance's values, would break tenant isolation:\n  - ${problems.join("\n  - ")}`,
    );
    this.name = "IsolationRefusal";
    this.problems = problems;
  }
}

/** What helm's post-render step does to the objects of one helm run. */
export interface PostRenderChecks {
  readonly policy: PodPolicy;
  isolationProblems(objects: readonly RenderedObject[]): string[];
}

export interface ReleaseState {
  readonly status: string;
  readonly revision: number;
  readonly chart: string;
  readonly values: Record<string, unknown>;
  /** What the revision applied, in `helm template`'s layout (manifest, then hooks). */
  readonly manifest: string;
}

/** Events the helmer publishes about instances (typed by @kubeplus/contracts). */
export type InstanceEvent =
  | { readonly subject: "InstanceReady"; readonly payload: RequestOf<"InstanceReady"> }
  | { readonly subject: "InstanceFailed"; readonly payload: RequestOf<"InstanceFailed"> }
  | { readonly subject: "InstanceDeleted"; readonly payload: RequestOf<"InstanceDeleted"> };

/** What creating (never applying over) an instance's namespace found. */
export type NamespaceClaim =
  | { readonly state: "ours" }
  | { readonly state: "terminating" }
  | { readonly state: "conflict"; readonly detail: string };

export interface InstanceReconcileDeps {
  /** The helmer's own ServiceAccount, when it runs as one (it binds itself the tenant role in new namespaces). */
  readonly self?: ServiceAccountRef;
  /** The KubePlus namespace: instances' egress policy keeps tenants out of it. */
  readonly platformNamespace?: string;
  /** The cluster's pod and service ranges, kept out of instances' egress ipBlocks. */
  readonly clusterCidrs?: readonly string[];
  /** Where a metrics-collector outside the cluster scrapes appEndpoints from (METRICS_COLLECTOR_CIDRS). */
  readonly metricsCollectorCidrs?: readonly string[];
  get(namespace: string, name: string): Instance | undefined;
  composition(): ResourceComposition | undefined;
  namespaceLabels(name: string): Record<string, string> | undefined;
  namespaceExists(name: string): Promise<boolean>;
  /** Why no instance may have this namespace (the cluster's and the administrator's), or undefined. */
  reservedNamespace(name: string): string | undefined;
  /**
   * Creates the instance's namespace, or finds it already this instance's (by the UID label); never takes over a
   * namespace that exists for anyone else.
   */
  claimNamespace(namespace: Obj, instance: InstanceRef): Promise<NamespaceClaim>;
  /** Whose the namespace is, or undefined when it does not exist. */
  namespaceOwner(name: string, instance: InstanceRef): Promise<NamespaceOwnership | undefined>;
  deleteNamespace(name: string): Promise<void>;
  apply(object: Obj): Promise<void>;
  setFinalizers(instance: Instance, finalizers: string[]): Promise<void>;
  writeStatus(instance: Instance, status: InstanceStatus): Promise<void>;
  chart(rc: ResourceComposition): Promise<FetchedChart>;
  render(
    chart: FetchedChart,
    plan: InstancePlan,
    values: Record<string, unknown>,
  ): Promise<RenderedObject[]>;
  /**
   * What in the instance's rendered chart would break tenant isolation (shared volumes, host access, objects outside
   * the instance's namespace, bindings and ServiceAccounts the chart may not use).
   */
  isolationProblems(
    rc: ResourceComposition,
    rendered: readonly RenderedObject[],
    namespace: string,
  ): string[];
  /** The release's latest revision (state, chart, values), or undefined when there is none. */
  release(plan: InstancePlan): Promise<ReleaseState | undefined>;
  /**
   * `helm upgrade --install`. Helm's rendered objects are checked with `checks.isolationProblems` and given the policy
   * before anything is applied; any problem throws an IsolationRefusal. Returns the objects the release applied, or
   * undefined when helm did not show them.
   */
  upgradeInstall(
    plan: InstancePlan,
    chart: FetchedChart,
    values: Record<string, unknown>,
    checks: PostRenderChecks,
  ): Promise<RenderedObject[] | undefined>;
  /** Back to the last revision deployed successfully; undefined when there is none. */
  rollback(plan: InstancePlan): Promise<number | undefined>;
  uninstall(plan: InstancePlan): Promise<void>;
  /** The objects (of those given) that are not Current yet (readiness.ts): in progress, or failed, and why. */
  notReady(objects: readonly RenderedObject[], namespace: string): Promise<NotReadyObject[]>;
  /** A slot in the composition's fleet rollout for moving this instance to a new chart. */
  fleetSlot(instance: Instance, digest: string): FleetDecision;
  releaseFleetSlot(instance: Instance): void;
  emit(event: InstanceEvent): void;
  /** How long a converged instance waits before it is checked again (drift correction). */
  readonly resyncMs: number;
  now(): Date;
}

const POLL_MS = 1_000;
const WAIT_SLOT_MS = 2_000;
const RETRY_FAILED_MS = 30_000;

interface Verdict {
  readonly ready: Condition["status"];
  readonly reason: string;
  readonly message: string;
}

const readyAt = (list: readonly Condition[], generation: number): boolean =>
  list.some((c) => c.type === ConditionType.Ready && c.observedGeneration === generation);

/**
 * Ready, Reconciling and Stalled (kstatus). `keepReady` leaves a Ready condition as it is while the release still
 * serves this very spec (a fleet chart upgrade, a slot wait); a spec change always makes Ready False until done.
 */
function conditions(instance: Instance, v: Verdict, now: Date, keepReady = false): Condition[] {
  const generation = instance.metadata.generation ?? 0;
  const failed = STALLED.has(v.reason);
  const inProgress = v.ready !== "True" && !failed;
  let list = instance.status?.conditions ?? [];
  if (!keepReady || !readyAt(list, generation)) {
    list = setCondition(
      list,
      {
        type: ConditionType.Ready,
        status: v.ready,
        reason: v.reason,
        message: v.message,
        observedGeneration: generation,
      },
      now,
    );
  }
  list = setCondition(
    list,
    {
      type: ConditionType.Reconciling,
      status: inProgress ? "True" : "False",
      reason: v.reason,
      message: inProgress ? v.message : "",
      observedGeneration: generation,
    },
    now,
  );
  return setCondition(
    list,
    {
      type: ConditionType.Stalled,
      status: failed ? "True" : "False",
      reason: v.reason,
      message: failed ? v.message : "",
      observedGeneration: generation,
    },
    now,
  );
}

/** Helm's install order of kinds (pkg/release/v1/util/kind_sorter.go); other kinds come after. */
const INSTALL_ORDER = [
  "PriorityClass",
  "Namespace",
  "NetworkPolicy",
  "ResourceQuota",
  "LimitRange",
  "PodDisruptionBudget",
  "ServiceAccount",
  "Secret",
  "ConfigMap",
  "StorageClass",
  "PersistentVolume",
  "PersistentVolumeClaim",
  "CustomResourceDefinition",
  "ClusterRole",
  "ClusterRoleBinding",
  "Role",
  "RoleBinding",
  "Service",
  "DaemonSet",
  "Pod",
  "ReplicationController",
  "ReplicaSet",
  "Deployment",
  "HorizontalPodAutoscaler",
  "StatefulSet",
  "Job",
  "CronJob",
  "IngressClass",
  "Ingress",
  "APIService",
  "MutatingWebhookConfiguration",
  "ValidatingWebhookConfiguration",
];
const orderOf = (kind: string): number => {
  const i = INSTALL_ORDER.indexOf(kind);
  return i < 0 ? INSTALL_ORDER.length : i;
};

function inventoryOf(
  objects: readonly RenderedObject[],
  namespace: string,
): NonNullable<InstanceStatus["inventory"]> {
  return objects.map(({ object }) => {
    const meta = (object.metadata ?? {}) as { name?: string; namespace?: string };
    return {
      apiVersion: String(object.apiVersion),
      kind: String(object.kind),
      name: meta.name ?? "",
      namespace: meta.namespace ?? namespace,
    };
  });
}

const nameOf = (o: RenderedObject): string => {
  const name = (o.object.metadata as { name?: unknown } | undefined)?.name;
  return typeof name === "string" ? name : "";
};

/**
 * The release's objects in install order, then by name: the same list whether it came from helm's post-render step
 * (template file order) or from the stored release, so that the inventory and the readiness message do not change,
 * and the status is not rewritten, only because the next poll read them from elsewhere.
 */
function inInstallOrder(objects: readonly RenderedObject[]): RenderedObject[] {
  return [...objects].sort((a, b) => {
    const ka = String(a.object.kind);
    const kb = String(b.object.kind);
    return orderOf(ka) - orderOf(kb) || ka.localeCompare(kb) || nameOf(a).localeCompare(nameOf(b));
  });
}

type Report = Verdict & { extra?: Partial<InstanceStatus>; keepReady?: boolean };

async function report(
  instance: Instance,
  plan: InstancePlan,
  v: Report,
  deps: InstanceReconcileDeps,
): Promise<void> {
  const failed = STALLED.has(v.reason) ? { error: v.message } : {};
  // Only the fields this report decides: the status is merge-patched, and the cached instance may be a write behind,
  // so spreading it would put back what a newer write changed (a cleared or recorded failure).
  await deps.writeStatus(instance, {
    helmrelease: `${plan.namespace}:${plan.release}`,
    observedGeneration: instance.metadata.generation ?? 0,
    conditions: conditions(instance, v, deps.now(), v.keepReady),
    ...(v.ready === "True" ? { error: "" } : failed),
    ...v.extra,
  });
}

function identity(instance: Instance): {
  version: 1;
  group: string;
  kind: string;
  namespace: string;
  name: string;
  uid?: string;
  generation?: number;
} {
  const group = instance.apiVersion.split("/")[0] ?? "";
  return {
    version: 1,
    group,
    kind: instance.kind,
    namespace: instance.metadata.namespace ?? "",
    name: instance.metadata.name ?? "",
    ...(instance.metadata.uid ? { uid: instance.metadata.uid } : {}),
    ...(instance.metadata.generation ? { generation: instance.metadata.generation } : {}),
  };
}

/** A failure: reported as Stalled with its reason, and published once. */
async function reportFailure(
  c: { instance: Instance; plan: InstancePlan },
  failure: { reason: RequestOf<"InstanceFailed">["reason"]; message: string },
  deps: InstanceReconcileDeps,
  extra?: Partial<InstanceStatus>,
): Promise<void> {
  const { instance, plan } = c;
  const before = instance.status?.conditions?.find((x) => x.type === ConditionType.Ready);
  await report(
    instance,
    plan,
    {
      ready: "False",
      reason: failure.reason,
      message: failure.message,
      ...(extra ? { extra } : {}),
    },
    deps,
  );
  if (before?.reason !== failure.reason || before.message !== failure.message) {
    deps.emit({
      subject: "InstanceFailed",
      payload: { ...identity(instance), release: `${plan.namespace}:${plan.release}`, ...failure },
    });
  }
}

function instanceRef(instance: Instance): InstanceRef {
  return {
    kind: instance.kind,
    namespace: instance.metadata.namespace ?? "",
    name: instance.metadata.name ?? "",
    uid: instance.metadata.uid ?? "",
  };
}

/**
 * Step 2a: the instance's own namespace. A reserved name is refused; the namespace is created, never applied over an
 * existing one, and is this instance's only when it carries its UID. Undefined when the instance may go on.
 */
async function claimNamespace(
  instance: Instance,
  plan: InstancePlan,
  deps: InstanceReconcileDeps,
): Promise<ReconcileResult | undefined> {
  if (!plan.createNamespace || !plan.namespaceObject) return undefined;
  const reserved = deps.reservedNamespace(plan.namespace);
  const claim = reserved
    ? ({ state: "conflict", detail: reserved } as const)
    : await deps.claimNamespace(plan.namespaceObject, instanceRef(instance));
  if (claim.state === "ours") return undefined;
  if (claim.state === "terminating") {
    await report(
      instance,
      plan,
      {
        ready: "False",
        reason: InstanceReason.NamespaceTerminating,
        message: `waiting for namespace ${plan.namespace} of an earlier instance to be deleted`,
      },
      deps,
    );
    return { requeueAfterMs: WAIT_SLOT_MS };
  }
  await reportFailure(
    { instance, plan },
    {
      reason: InstanceReason.NamespaceConflict,
      message: `${claim.detail}; nothing was installed: delete this instance and create it with another name`,
    },
    deps,
  );
  return { requeueAfterMs: deps.resyncMs };
}

/** Deletion: uninstall the release, delete the namespace KubePlus made, wait for both, then let the instance go. */
async function finalize(
  instance: Instance,
  plan: InstancePlan,
  deps: InstanceReconcileDeps,
): Promise<ReconcileResult> {
  if (!instance.metadata.finalizers?.includes(INSTANCE_FINALIZER)) return {};
  await report(
    instance,
    plan,
    {
      ready: "False",
      reason: InstanceReason.Deleting,
      message: `uninstalling ${plan.release} and deleting namespace ${plan.namespace}`,
    },
    deps,
  );
  deps.releaseFleetSlot(instance);
  // A namespace that is not this instance's (another instance won the name, or it was never KubePlus's) holds no
  // release of this instance: touch nothing in it.
  const owner = plan.createNamespace
    ? await deps.namespaceOwner(plan.namespace, instanceRef(instance))
    : undefined;
  if (owner?.owner !== "other") {
    await deps.uninstall(plan);
    if (plan.createNamespace && (await deps.namespaceExists(plan.namespace))) {
      await deps.deleteNamespace(plan.namespace);
      return { requeueAfterMs: POLL_MS };
    }
  }
  await deps.setFinalizers(
    instance,
    (instance.metadata.finalizers ?? []).filter((f) => f !== INSTANCE_FINALIZER),
  );
  deps.emit({
    subject: "InstanceDeleted",
    payload: {
      ...identity(instance),
      release: `${plan.namespace}:${plan.release}`,
      targetNamespace: plan.namespace,
    },
  });
  return {};
}

/** JSON with sorted keys, so that equal values compare equal whatever their key order. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) =>
      a.localeCompare(b),
    );
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

type ChartStatus = NonNullable<InstanceStatus["chart"]>;

interface Converging {
  readonly instance: Instance;
  readonly rc: ResourceComposition;
  readonly plan: InstancePlan;
  readonly chart: FetchedChart;
  readonly chartStatus: ChartStatus;
  /** The objects of a release that already serves this spec on this chart; undefined when helm has work to do. */
  readonly rendered?: readonly RenderedObject[];
  /** The release's latest revision, read once per reconcile. */
  readonly release: ReleaseState | undefined;
}

/** What helm must do, decided from the release itself (the source of truth), never from our own status. */
export type HelmAction =
  | { readonly kind: "none" }
  | { readonly kind: "install" }
  | { readonly kind: "upgrade"; readonly chartChange: boolean }
  | { readonly kind: "recover"; readonly status: string; readonly revision: number };

/**
 * Install when there is no release; recover one left mid-operation (a crash) or whose only revision failed;
 * upgrade when it is on another chart, not deployed, or installed with other values.
 */
export function decideHelmAction(
  c: Pick<Converging, "instance" | "chartStatus" | "release">,
): HelmAction {
  const { instance, chartStatus, release } = c;
  if (!release) return { kind: "install" };
  if (
    release.status.startsWith("pending-") ||
    (release.status === "failed" && release.revision === 1)
  )
    return { kind: "recover", status: release.status, revision: release.revision };
  const deployedDigest = instance.status?.chart?.digest;
  const chartChange =
    release.chart !== chartStatus.ref ||
    (deployedDigest !== undefined && deployedDigest !== chartStatus.digest);
  if (chartChange || release.status !== "deployed") return { kind: "upgrade", chartChange };
  return canonical(release.values) === canonical(instance.spec)
    ? { kind: "none" }
    : { kind: "upgrade", chartChange: false };
}

/**
 * A release left `pending-install` or `pending-upgrade` by a helmer that died mid-operation (helm would refuse any
 * further operation), or a first install that failed: back to a state helm can move on from.
 */
async function recover(
  c: Converging,
  action: Extract<HelmAction, { kind: "recover" }>,
  deps: InstanceReconcileDeps,
): Promise<ReconcileResult> {
  const { instance, plan } = c;
  await report(
    instance,
    plan,
    {
      ready: "False",
      reason: InstanceReason.Recovering,
      message: `release ${plan.release} was left ${action.status} (revision ${action.revision}); recovering it`,
      keepReady: action.status === "pending-upgrade",
    },
    deps,
  );
  const rolledBack = action.status === "pending-install" ? undefined : await deps.rollback(plan);
  if (rolledBack === undefined) await deps.uninstall(plan);
  return { requeueAfterMs: 0 };
}

/** A chart change waits for a slot in the fleet rollout; a spent failure budget holds it. */
async function holdForFleet(
  c: Converging,
  deps: InstanceReconcileDeps,
): Promise<ReconcileResult | undefined> {
  const decision = deps.fleetSlot(c.instance, c.chartStatus.digest ?? "");
  if (decision === "go") return undefined;
  const halted = decision === "halted";
  await report(
    c.instance,
    c.plan,
    {
      ready: "False",
      keepReady: true,
      reason: halted ? InstanceReason.UpgradeHalted : InstanceReason.UpgradePending,
      message: halted
        ? `not moving to chart ${c.chartStatus.ref ?? ""}: the fleet upgrade stopped after too many failures (see the composition's status)`
        : `waiting for a fleet upgrade slot to move to chart ${c.chartStatus.ref ?? ""}`,
    },
    deps,
  );
  return { requeueAfterMs: halted ? deps.resyncMs : WAIT_SLOT_MS };
}

/** The chart and spec that failed, so that only a change of either tries them again (and the fleet counts it). */
function failedChartOf(c: Converging): Partial<InstanceStatus> {
  return {
    failedChart: {
      ...(c.chartStatus.ref ? { ref: c.chartStatus.ref } : {}),
      ...(c.chartStatus.digest ? { digest: c.chartStatus.digest } : {}),
      generation: c.instance.metadata.generation ?? 0,
    },
  };
}

/** A failed upgrade is rolled back to the last good revision and remembered, so that only a change retries it. */
async function upgradeFailed(
  c: Converging,
  err: unknown,
  deps: InstanceReconcileDeps,
): Promise<void> {
  let message = apiErrorMessage(err);
  try {
    const revision = await deps.rollback(c.plan);
    if (revision !== undefined) message += ` (rolled back to revision ${revision})`;
  } catch (rollbackErr) {
    message += ` (rollback failed too: ${apiErrorMessage(rollbackErr)})`;
  }
  await reportFailure(c, { reason: InstanceReason.UpgradeFailed, message }, deps, failedChartOf(c));
}

/**
 * Refused by the isolation check at helm's post-render step: helm stopped before it created or changed anything, so
 * there is nothing to undo. Tried again at the resync or on a change: the composition may come to allow it. Not
 * recorded as a failed chart, so that one tenant's values never spend a fleet rollout's failure budget.
 */
async function refused(
  c: Converging,
  err: IsolationRefusal,
  deps: InstanceReconcileDeps,
): Promise<ReconcileResult> {
  await reportFailure(c, { reason: InstanceReason.IsolationRefused, message: err.message }, deps);
  return { requeueAfterMs: deps.resyncMs };
}

/** This very spec was refused: trying it again says nothing new until it is installed or refused once more. */
function retryingRefusal(instance: Instance): boolean {
  const ready = instance.status?.conditions?.find((x) => x.type === ConditionType.Ready);
  return (
    ready?.reason === InstanceReason.IsolationRefused &&
    ready.observedGeneration === (instance.metadata.generation ?? 0)
  );
}

/**
 * Step 4: install or upgrade. Helm renders once; its post-render step checks isolation and puts the pod policy on the
 * workloads before anything is applied. Failures are cleaned up and reported. Returns the objects applied.
 */
async function runHelm(
  c: Converging,
  action: Extract<HelmAction, { kind: "install" | "upgrade" }>,
  deps: InstanceReconcileDeps,
): Promise<ReconcileResult | Applied> {
  const { instance, plan, chartStatus } = c;
  const installing = action.kind === "install";
  if (!retryingRefusal(instance)) {
    await report(
      instance,
      plan,
      {
        ready: "False",
        keepReady: !installing,
        reason: installing ? InstanceReason.Installing : InstanceReason.Upgrading,
        message: `${installing ? "installing" : "upgrading"} release ${plan.release} (chart ${chartStatus.ref ?? ""})`,
      },
      deps,
    );
  }
  try {
    const objects = await deps.upgradeInstall(plan, c.chart, instance.spec, {
      policy: podPolicyFor(c.rc, instance),
      isolationProblems: (rendered) => deps.isolationProblems(c.rc, rendered, plan.namespace),
    });
    // Helm did not show what it applied: the next pass reads it from the release.
    return objects ? { objects } : { requeueAfterMs: 0 };
  } catch (err) {
    if (err instanceof IsolationRefusal) return await refused(c, err, deps);
    if (!installing) {
      await upgradeFailed(c, err, deps);
      return { requeueAfterMs: deps.resyncMs };
    }
    // Nothing half-created: a failed first install is removed, and tried again later or on a change.
    await deps.uninstall(plan);
    await reportFailure(
      c,
      { reason: InstanceReason.InstallFailed, message: apiErrorMessage(err) },
      deps,
    );
    return { requeueAfterMs: RETRY_FAILED_MS };
  } finally {
    if (action.kind === "upgrade" && action.chartChange) deps.releaseFleetSlot(instance);
  }
}

/**
 * This spec already failed on this chart and was rolled back: say so again, should a report built from a stale cache
 * have overwritten it, until the spec or the chart changes. The write that recorded it set the error.
 */
async function knownFailure(c: Converging, deps: InstanceReconcileDeps): Promise<ReconcileResult> {
  const error = c.instance.status?.error;
  if (error) {
    const failed = {
      ready: "False" as const,
      reason: InstanceReason.UpgradeFailed,
      message: error,
    };
    await report(c.instance, c.plan, failed, deps);
  }
  return { requeueAfterMs: deps.resyncMs };
}

/** What the release applies once helm has nothing more to do. */
interface Applied {
  readonly objects: readonly RenderedObject[];
}

async function converge(
  c: Converging,
  deps: InstanceReconcileDeps,
): Promise<ReconcileResult | Applied> {
  const action = decideHelmAction(c);
  if (action.kind === "none") return { objects: c.rendered ?? [] };
  if (action.kind === "recover") return recover(c, action, deps);
  if (action.kind === "upgrade" && failedOn(c.instance, c.chartStatus.digest ?? ""))
    return knownFailure(c, deps);
  if (action.kind === "upgrade" && action.chartChange) {
    const held = await holdForFleet(c, deps);
    if (held) return held;
  }
  return runHelm(c, action, deps);
}

/** Just after a release moved, its pods come up within a second or two: look again soon, then every POLL_MS. */
const FAST_POLL_MS = 250;
const FAST_POLL_WINDOW_MS = 10_000;

export function readinessPollMs(instance: Instance, now: Date): number {
  const ready = instance.status?.conditions?.find((x) => x.type === ConditionType.Ready);
  const since = ready?.status === "False" ? Date.parse(ready.lastTransitionTime) : Number.NaN;
  // No Ready=False yet (the report that set it is not in this cached copy): the release has only just moved.
  if (Number.isNaN(since)) return FAST_POLL_MS;
  return now.getTime() - since < FAST_POLL_WINDOW_MS ? FAST_POLL_MS : POLL_MS;
}

/** Step 5: Ready only when the release's workloads are. */
async function reportReadiness(
  c: Converging,
  objects: readonly RenderedObject[],
  deps: InstanceReconcileDeps,
): Promise<ReconcileResult> {
  const { instance, plan, chartStatus } = c;
  const rendered = inInstallOrder(objects);
  const notReady = await deps.notReady(rendered, plan.namespace);
  const extra: Partial<InstanceStatus> = {
    chart: chartStatus,
    inventory: inventoryOf(rendered, plan.namespace),
  };
  const failedObjects = notReady.filter((o) => o.status === "Failed");
  if (failedObjects.length > 0) {
    // Stalled until something changes: looked at again on a spec or chart change, or at the resync.
    const message = failedObjects.map(describeNotReady).join(", ");
    await reportFailure(c, { reason: InstanceReason.ProgressFailed, message }, deps, extra);
    return { requeueAfterMs: deps.resyncMs };
  }
  const waiting = notReady.map(describeNotReady);
  // Status is merge-patched: a failure that no longer holds is removed with an explicit null.
  const cleared: Partial<InstanceStatus> = instance.status?.failedChart
    ? { failedChart: null }
    : {};
  if (waiting.length > 0) {
    await report(
      instance,
      plan,
      {
        ready: "False",
        reason: InstanceReason.Progressing,
        message: `waiting for ${waiting.join(", ")}`,
        extra,
      },
      deps,
    );
    return { requeueAfterMs: readinessPollMs(instance, deps.now()) };
  }
  const message = `release ${plan.release} (chart ${chartStatus.ref ?? ""}) is ready in namespace ${plan.namespace}`;
  const before = instance.status?.conditions?.find((x) => x.type === ConditionType.Ready);
  await report(
    instance,
    plan,
    { ready: "True", reason: InstanceReason.Ready, message, extra: { ...extra, ...cleared } },
    deps,
  );
  if (before?.status !== "True" || before.message !== message) {
    deps.emit({
      subject: "InstanceReady",
      payload: {
        ...identity(instance),
        release: `${plan.namespace}:${plan.release}`,
        targetNamespace: plan.namespace,
        chart: chartStatus.ref ?? "",
      },
    });
  }
  return { requeueAfterMs: deps.resyncMs };
}

/** The composition has registered its current spec (so its chart has been checked and its CRD is served). */
function compositionSettled(rc: ResourceComposition): boolean {
  const ready = rc.status?.conditions?.find((c) => c.type === ConditionType.Ready);
  return (
    ready?.status === "True" &&
    (rc.status?.observedGeneration ?? 0) >= (rc.metadata.generation ?? 0)
  );
}

/**
 * The objects of a release that already serves this spec on this chart, as it applied them (its manifest and hooks,
 * in `helm template`'s layout): no helm run for a readiness poll or a resync. The chart is rendered only when the
 * stored manifest cannot be read. Undefined when helm has work to do (it renders then, and the post-render step
 * checks isolation).
 */
async function servedObjects(
  c: Pick<Converging, "instance" | "plan" | "chart" | "chartStatus" | "release">,
  deps: InstanceReconcileDeps,
): Promise<RenderedObject[] | undefined> {
  if (!c.release || decideHelmAction(c).kind !== "none") return undefined;
  try {
    return parseManifests(c.release.manifest);
  } catch {
    return deps.render(c.chart, c.plan, c.instance.spec);
  }
}

/** Steps 3-4 prerequisites: the chart, the release, and (when the release serves the spec) its isolation checked. */
async function prepare(
  instance: Instance,
  rc: ResourceComposition,
  plan: InstancePlan,
  deps: InstanceReconcileDeps,
): Promise<Converging | ReconcileResult> {
  let chart: FetchedChart;
  try {
    chart = await deps.chart(rc);
  } catch (err) {
    await reportFailure(
      { instance, plan },
      { reason: InstanceReason.ChartUnavailable, message: apiErrorMessage(err) },
      deps,
    );
    return { requeueAfterMs: RETRY_FAILED_MS };
  }
  const chartStatus = {
    name: chart.metadata.name,
    version: chart.metadata.version,
    ref: `${chart.metadata.name}-${chart.metadata.version}`,
    digest: chart.digest,
  };
  const release = await deps.release(plan);
  let rendered: RenderedObject[] | undefined;
  try {
    rendered = await servedObjects({ instance, plan, chart, chartStatus, release }, deps);
  } catch (err) {
    const reason = instance.status?.chart
      ? InstanceReason.UpgradeFailed
      : InstanceReason.InstallFailed;
    await reportFailure({ instance, plan }, { reason, message: apiErrorMessage(err) }, deps);
    return { requeueAfterMs: deps.resyncMs };
  }
  // A deployed release is checked again: the composition's allowances or the cluster's storage may have changed.
  const problems = rendered ? deps.isolationProblems(rc, rendered, plan.namespace) : [];
  if (problems.length > 0) {
    const message = new IsolationRefusal(problems).message;
    await reportFailure(
      { instance, plan },
      { reason: InstanceReason.IsolationRefused, message },
      deps,
    );
    return { requeueAfterMs: deps.resyncMs };
  }
  return { instance, rc, plan, chart, chartStatus, release, ...(rendered ? { rendered } : {}) };
}

/**
 * Reconciles one instance, level-based:
 *  1. load the instance and its composition; deleting: finalize (release, namespace, finalizer);
 *  2. ensure the finalizer, the namespace (owner and Pod Security labels) and the isolation objects, before any
 *     chart object;
 *  3. fetch the composition's chart and read the release;
 *  4. install, upgrade or recover the release, decided from the release itself; helm's render is checked for
 *     isolation and given the pod policy at its post-render step, before anything is applied; chart changes go
 *     through the fleet rollout; a failed upgrade is rolled back;
 *  5. Ready only when the release's workloads are ready; status: helmrelease `<namespace>:<release>`, chart,
 *     inventory, conditions with reasons on every path; events on NATS.
 */
export async function reconcileInstance(
  namespace: string,
  name: string,
  deps: InstanceReconcileDeps,
): Promise<ReconcileResult> {
  const instance = deps.get(namespace, name);
  if (!instance) return {};
  const rc = deps.composition();
  const target = targetNamespaceFor({ namespace, name }, deps.namespaceLabels(namespace));
  // Deletion needs only the release and namespace names, so an instance can go even after its composition.
  if (instance.metadata.deletionTimestamp)
    return finalize(instance, releasePlan(instance, target), deps);
  if (!rc || !compositionSettled(rc)) return { requeueAfterMs: POLL_MS * 2 };
  const plan = planInstance(
    instance,
    rc,
    {
      ...target,
      platformNamespace: deps.platformNamespace,
      clusterCidrs: deps.clusterCidrs,
      metricsCollectorCidrs: deps.metricsCollectorCidrs,
    },
    deps.self,
  );
  if (!instance.metadata.finalizers?.includes(INSTANCE_FINALIZER)) {
    await deps.setFinalizers(instance, [
      ...(instance.metadata.finalizers ?? []),
      INSTANCE_FINALIZER,
    ]);
    return {};
  }
  const unclaimed = await claimNamespace(instance, plan, deps);
  if (unclaimed) return unclaimed;
  for (const object of plan.isolation) await deps.apply(object);
  const prepared = await prepare(instance, rc, plan, deps);
  if (!("chart" in prepared)) return prepared;
  const converged = await converge(prepared, deps);
  return "objects" in converged ? reportReadiness(prepared, converged.objects, deps) : converged;
}
