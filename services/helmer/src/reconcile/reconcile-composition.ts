import { describeProblems, validateComposition, type CompositionDeps } from "@kubeplus/admission";
import {
  Annotations,
  ConditionSet,
  ConditionType,
  findCondition,
  PlatformKinds,
  type Condition,
  type ResourceComposition,
  type ResourceCompositionStatus,
  type Verdict,
} from "@kubeplus/api";
import {
  buildInstanceCrd,
  buildSampleManifest,
  compatibilityChecker,
  type FieldProblem,
  lintChartCrds,
  type FetchedChart,
} from "@kubeplus/charts";
import type { RequestOf } from "@kubeplus/contracts";
import { TerminalError } from "@kubeplus/kube/lite";
import { inSpan } from "@kubeplus/runtime";
import { reconcileSpan } from "./trace.js";
import type { FleetProgress } from "./fleet.js";
import {
  decideRollout,
  type Member,
  type RolloutDecision,
  type RolloutPhase,
  type RolloutStatus,
} from "./rollout.js";
import type { ReconcileResult } from "./work-queue.js";

/** The field manager of every object the helmer applies. */
export const FIELD_MANAGER = "kubeplus-helmer";
export const COMPOSITION_LABEL = "kubeplus.dev/composition";

/** Finalizer on every composition: its instances (when cascading), CRD and chart CRDs go before it does. */
export const COMPOSITION_FINALIZER = "workflows.kubeplus/finalizer";

export const CompositionReason = {
  Registered: "Registered",
  UpgradeBlocked: "UpgradeBlocked",
  DeletionBlocked: "DeletionBlocked",
  Deleting: "Deleting",
  Registering: "Registering",
  ValidationFailed: "ValidationFailed",
  ChartUnavailable: "ChartUnavailable",
} as const;

/** An instance of a composition's kind as the API lists it. */
export interface ListedInstance {
  readonly namespace: string;
  readonly name: string;
  readonly deleting: boolean;
  readonly spec: Record<string, unknown>;
}

type KubeObject = Record<string, unknown> & {
  apiVersion: string;
  kind: string;
  metadata: Record<string, unknown>;
};

/** What reconciling a composition needs: the cluster (through the cache and apply), the chart store. */
export interface CompositionReconcileDeps {
  get(namespace: string, name: string): ResourceComposition | undefined;
  chart(chartURL: string, chartName: string): Promise<FetchedChart>;
  checks: CompositionDeps;
  apply(object: KubeObject): Promise<void>;
  crdEstablished(name: string): Promise<boolean>;
  /** Merge-patches only these fields of the status (StatusWriter). */
  writeStatus(rc: ResourceComposition, fields: Partial<ResourceCompositionStatus>): Promise<void>;
  setFinalizers(rc: ResourceComposition, finalizers: string[]): Promise<void>;
  /** Every instance of the composition's kind, read from the API (none if not served). */
  listInstances(rc: ResourceComposition): Promise<ListedInstance[]>;
  deleteInstance(rc: ResourceComposition, namespace: string, name: string): Promise<void>;
  /** Deletes the generated CRD and the chart's CRDs; returns how many still exist. */
  deleteCrds(rc: ResourceComposition): Promise<number>;
  /** Where the fleet stands against the registered chart (undefined while the kind is not watched). */
  fleet(rc: ResourceComposition, chart: ChartRef): FleetProgress | undefined;
  /** The composition's live instances as the rollout's waves see them (undefined: its kind is not watched yet). */
  members(rc: ResourceComposition, chart: ChartRef): Member[] | undefined;
  /**
   * The chart the composition has just registered: its fleet's progress is counted again (by reconcileFleet, the
   * only writer of `status.instances`), against this chart even before the cache shows it in the status.
   */
  registered(rc: ResourceComposition, chart: ChartRef): void;
  /** The chart the composition last registered in this process, if any (newer than a cached status may be). */
  registeredChart(namespace: string, name: string): ChartRef | undefined;
  emitProgress(progress: RequestOf<"FleetUpgradeProgress">): void;
  event(
    rc: ResourceComposition,
    type: "Normal" | "Warning",
    reason: string,
    message: string,
  ): Promise<void>;
  now(): Date;
}

const RECHECK_AFTER_FAILURE_MS = 60_000;
/** While some instances' values do not fit the chart, they are checked again this often. */
const GATE_RECHECK_MS = 30_000;
/** Instances listed in status.compatibility, and problems per instance: the status stays small (etcd's limit). */
const LISTED_INSTANCES = 200;
const LISTED_PROBLEMS = 10;
const ESTABLISH_POLL_MS = 500;
const RESYNC_MS = 5 * 60_000;

function ownerReference(rc: ResourceComposition): Record<string, unknown> {
  return {
    apiVersion: rc.apiVersion,
    kind: rc.kind,
    name: rc.metadata.name,
    uid: rc.metadata.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** The ResourcePolicy and ResourceMonitor objects embedded in a composition, as objects of their own. */
export function embeddedObjects(rc: ResourceComposition): KubeObject[] {
  const name = rc.metadata.name ?? "";
  const meta = (suffix: string, given?: string): Record<string, unknown> => ({
    name: given ?? `${name}-${suffix}`,
    namespace: rc.metadata.namespace,
    labels: { [COMPOSITION_LABEL]: name },
    ownerReferences: [ownerReference(rc)],
  });
  const out: KubeObject[] = [];
  const policy = rc.spec.respolicy;
  if (policy?.spec) {
    const k = PlatformKinds.ResourcePolicy;
    out.push({
      apiVersion: `${k.group}/${k.version}`,
      kind: k.kind,
      metadata: meta("policy", policy.metadata?.name),
      spec: policy.spec,
    });
  }
  const monitor = rc.spec.resmonitor;
  if (monitor?.spec) {
    const k = PlatformKinds.ResourceMonitor;
    out.push({
      apiVersion: `${k.group}/${k.version}`,
      kind: k.kind,
      metadata: meta("monitor", monitor.metadata?.name),
      spec: monitor.spec,
    });
  }
  return out;
}

/** How a composition stands for a reason: registered, stalled until its spec changes, or on its way. */
function verdictOf(reason: string, message: string): Verdict {
  const standing =
    reason === CompositionReason.Registered
      ? "Current"
      : reason === CompositionReason.ValidationFailed || reason === CompositionReason.UpgradeBlocked
        ? "Stalled"
        : "InProgress";
  return { standing, reason, message };
}

function conditionsFor(rc: ResourceComposition, verdict: Verdict, now: Date): Condition[] {
  return new ConditionSet(rc.status?.conditions, rc.metadata.generation ?? 0, now)
    .judge(verdict)
    .toArray();
}

async function fail(
  rc: ResourceComposition,
  reason: string,
  message: string,
  deps: CompositionReconcileDeps,
): Promise<ReconcileResult> {
  await deps.writeStatus(rc, {
    status: message.split("\n")[0] ?? message,
    observedGeneration: rc.metadata.generation ?? 0,
    conditions: conditionsFor(rc, verdictOf(reason, message), deps.now()),
  });
  if (findCondition(rc.status?.conditions, ConditionType.Ready)?.message !== message) {
    await deps.event(rc, "Warning", reason, message);
  }
  return { requeueAfterMs: RECHECK_AFTER_FAILURE_MS };
}

/**
 * A failure only a change of the composition can fix (the work queue does not retry it): Stalled with its reason,
 * and the message.
 */
export async function reportTerminal(
  rc: ResourceComposition,
  err: TerminalError,
  deps: Pick<CompositionReconcileDeps, "writeStatus" | "now">,
): Promise<void> {
  const reason = err.reason ?? CompositionReason.ValidationFailed;
  await deps.writeStatus(rc, {
    status: err.message.split("\n")[0] ?? err.message,
    observedGeneration: rc.metadata.generation ?? 0,
    conditions: new ConditionSet(rc.status?.conditions, rc.metadata.generation ?? 0, deps.now())
      .judge({ standing: "Stalled", reason, message: err.message })
      .toArray(),
  });
}

/** The sample manifest ConfigMap `<kind>-usage` (key `spec`), as the original's `kubectl man` reads it. */
function usageConfigMap(rc: ResourceComposition, chart: FetchedChart): KubeObject {
  const resource = rc.spec.newResource.resource;
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: {
      name: `${resource.kind.toLowerCase()}-usage`,
      namespace: rc.metadata.namespace,
      labels: { [COMPOSITION_LABEL]: rc.metadata.name },
      ownerReferences: [ownerReference(rc)],
    },
    data: { spec: buildSampleManifest(resource, chart) },
  };
}

/** The generated CRD of a composition (with the node-isolation field when the policy names one). */
function instanceCrdFor(
  rc: ResourceComposition,
  chart: FetchedChart,
): ReturnType<typeof buildInstanceCrd> {
  const values = {
    values: chart.values,
    ...(chart.valuesSchema ? { valuesSchema: chart.valuesSchema } : {}),
    name: chart.metadata.name,
    ...(chart.metadata.description ? { description: chart.metadata.description } : {}),
  };
  const nodeSelector = rc.spec.respolicy?.spec?.policy?.podconfig?.nodeSelector;
  const owner = {
    name: rc.metadata.name ?? "",
    namespace: rc.metadata.namespace ?? "",
    ...(nodeSelector ? { nodeSelector } : {}),
  };
  return buildInstanceCrd(rc.spec.newResource.resource, values, owner);
}

/** Step 3: the generated CRD, the chart's own CRDs, the embedded policy and monitor, the sample manifest. */
async function register(
  rc: ResourceComposition,
  chart: FetchedChart,
  deps: CompositionReconcileDeps,
): Promise<{ crdName: string; notes: number }> {
  const name = rc.metadata.name ?? "";
  const { crd, notes } = instanceCrdFor(rc, chart);
  // Checked with the admission checks already; checked again right before the provider's identity applies them.
  const refused = lintChartCrds(chart.crds, new Set(rc.spec.isolation?.crdGroups ?? []));
  if (refused.length > 0) {
    const message = refused.map((p) => `${p.path}: ${p.message}`).join("; ");
    throw new TerminalError(`the chart's CRDs are refused: ${message}`, {
      reason: CompositionReason.ValidationFailed,
    });
  }
  await deps.apply(crd as unknown as KubeObject);
  for (const chartCrd of chart.crds) {
    const meta = (chartCrd.metadata ?? {}) as Record<string, unknown>;
    const labels = {
      ...((meta.labels ?? {}) as Record<string, string>),
      [COMPOSITION_LABEL]: name,
    };
    await deps.apply({ ...(chartCrd as KubeObject), metadata: { ...meta, labels } });
  }
  for (const object of [...embeddedObjects(rc), usageConfigMap(rc, chart)])
    await deps.apply(object);
  for (const note of notes)
    await deps.event(rc, "Normal", "SchemaNote", `${note.path}: ${note.note}`);
  return { crdName: crd.metadata.name, notes: notes.length };
}

/** Step 5: Ready, with what is served and from which chart. */
async function reportRegistered(
  rc: ResourceComposition,
  registered: { chart: FetchedChart; crdName: string },
  deps: CompositionReconcileDeps,
): Promise<void> {
  const { chart, crdName } = registered;
  const resource = rc.spec.newResource.resource;
  const message = `${resource.kind} is served as ${crdName}/${resource.version} (chart ${chart.metadata.name} ${chart.metadata.version})`;
  const before = findCondition(rc.status?.conditions, ConditionType.Ready);
  const wasReady = before?.status === "True" && before.message === message;
  await deps.writeStatus(rc, {
    status: message,
    observedGeneration: rc.metadata.generation ?? 0,
    conditions: conditionsFor(rc, verdictOf(CompositionReason.Registered, message), deps.now()),
    crd: crdName,
    chart: { name: chart.metadata.name, version: chart.metadata.version, digest: chart.digest },
  });
  if (!wasReady) await deps.event(rc, "Normal", CompositionReason.Registered, message);
}

const DELETE_POLL_MS = 1_000;
const BLOCKED_POLL_MS = 5_000;
const FLEET_POLL_MS = 2_000;

async function reportDeletion(
  rc: ResourceComposition,
  verdict: { reason: string; message: string },
  deps: CompositionReconcileDeps,
): Promise<void> {
  const conditions = conditionsFor(rc, verdictOf(verdict.reason, verdict.message), deps.now());
  await deps.writeStatus(rc, { status: verdict.message, conditions });
}

/**
 * Deletion: refused (reported, kept) while instances exist unless the composition asks to cascade; with cascade,
 * every instance is deleted and awaited (each one's finalizer uninstalls it cleanly); then the generated CRD and
 * the chart's CRDs; then the finalizer goes.
 */
async function finalizeComposition(
  rc: ResourceComposition,
  deps: CompositionReconcileDeps,
): Promise<ReconcileResult> {
  if (!rc.metadata.finalizers?.includes(COMPOSITION_FINALIZER)) return {};
  const instances = await deps.listInstances(rc);
  const kind = rc.spec.newResource.resource.kind;
  if (instances.length > 0) {
    const names = instances.map((i) => `${i.namespace}/${i.name}`);
    if (rc.metadata.annotations?.[Annotations.CascadeDelete] !== "true") {
      const message = `deletion waits for ${names.length} ${kind} instance(s) to be deleted: ${names.slice(0, 10).join(", ")} (or annotate the composition with ${Annotations.CascadeDelete}=true to delete them with it)`;
      await reportDeletion(rc, { reason: CompositionReason.DeletionBlocked, message }, deps);
      return { requeueAfterMs: BLOCKED_POLL_MS };
    }
    for (const i of instances.filter((x) => !x.deleting))
      await deps.deleteInstance(rc, i.namespace, i.name);
    const message = `deleting ${names.length} ${kind} instance(s) before the API: ${names.slice(0, 10).join(", ")}`;
    await reportDeletion(rc, { reason: CompositionReason.Deleting, message }, deps);
    return { requeueAfterMs: DELETE_POLL_MS };
  }
  if ((await deps.deleteCrds(rc)) > 0) {
    const message = `removing the ${kind} API and the chart's CRDs`;
    await reportDeletion(rc, { reason: CompositionReason.Deleting, message }, deps);
    return { requeueAfterMs: DELETE_POLL_MS };
  }
  await deps.setFinalizers(
    rc,
    (rc.metadata.finalizers ?? []).filter((f) => f !== COMPOSITION_FINALIZER),
  );
  return {};
}

interface ChartRef {
  readonly name: string;
  readonly version: string;
  readonly digest: string;
}

const sameJson = (a: unknown, b: unknown): boolean =>
  JSON.stringify(a ?? {}) === JSON.stringify(b ?? {});

/** Fleet progress towards the registered chart, published on NATS when it changes. */
function fleetStatus(
  rc: ResourceComposition,
  chart: ChartRef,
  deps: CompositionReconcileDeps,
): FleetProgress | undefined {
  const progress = deps.fleet(rc, chart);
  if (progress && !sameJson(rc.status?.instances, progress)) {
    deps.emitProgress({
      version: 1,
      namespace: rc.metadata.namespace ?? "",
      name: rc.metadata.name ?? "",
      kind: rc.spec.newResource.resource.kind,
      ...progress,
    });
  }
  return progress;
}

/**
 * Step 2b, the compatibility gate: when the chart changes (or some instances did not fit it), every instance's
 * values are checked against the new chart's schema before anything is registered. Those that do not fit are listed
 * in status.compatibility; unless `spec.upgrade.allowIncompatible`, the new chart is not registered at all (the fleet
 * stays on the chart it runs, Ready False with the reason UpgradeBlocked) and the check runs again soon. Undefined:
 * go on and register.
 */
async function compatibilityGate(
  rc: ResourceComposition,
  chart: FetchedChart,
  deps: CompositionReconcileDeps,
): Promise<ReconcileResult | undefined> {
  if (!gateApplies(rc, chart, deps)) return undefined;
  const { checked, incompatible } = await checkFleet(rc, chart, deps);
  const ref = `${chart.metadata.name}-${chart.metadata.version}`;
  await deps.writeStatus(rc, {
    compatibility: {
      chart: ref,
      digest: chart.digest,
      checked,
      incompatibleCount: incompatible.length,
      incompatible: incompatible
        .slice(0, LISTED_INSTANCES)
        .map((i) => ({ ...i, problems: i.problems.slice(0, LISTED_PROBLEMS) })),
    },
  });
  if (incompatible.length === 0 || rc.spec.upgrade?.allowIncompatible === true) return undefined;
  const message = blockedMessage(ref, incompatible, checked);
  const before = findCondition(rc.status?.conditions, ConditionType.Ready);
  await deps.writeStatus(rc, {
    status: message,
    observedGeneration: rc.metadata.generation ?? 0,
    conditions: conditionsFor(rc, verdictOf(CompositionReason.UpgradeBlocked, message), deps.now()),
  });
  if (before?.message !== message)
    await deps.event(rc, "Warning", CompositionReason.UpgradeBlocked, message);
  return { requeueAfterMs: GATE_RECHECK_MS };
}

/** The gate runs on a chart change, and again while instances did not fit the chart. Never on a first registration. */
function gateApplies(
  rc: ResourceComposition,
  chart: FetchedChart,
  deps: CompositionReconcileDeps,
): boolean {
  const registered =
    deps.registeredChart(rc.metadata.namespace ?? "", rc.metadata.name ?? "") ??
    registeredChart(rc);
  if (!registered) return false;
  if (registered.digest !== chart.digest) return true;
  const earlier = rc.status?.compatibility;
  return earlier?.digest === chart.digest && (earlier.incompatibleCount ?? 0) > 0;
}

interface Incompatible {
  readonly namespace: string;
  readonly name: string;
  readonly problems: FieldProblem[];
}

/** Every live instance's values against the chart's spec schema. */
async function checkFleet(
  rc: ResourceComposition,
  chart: FetchedChart,
  deps: CompositionReconcileDeps,
): Promise<{ checked: number; incompatible: Incompatible[] }> {
  const instances = (await deps.listInstances(rc)).filter((i) => !i.deleting);
  const check = compatibilityChecker(specSchemaOf(instanceCrdFor(rc, chart).crd));
  const incompatible = instances
    .map((i) => ({ namespace: i.namespace, name: i.name, problems: check(i.spec) }))
    .filter((i) => i.problems.length > 0)
    .sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`));
  return { checked: instances.length, incompatible };
}

function blockedMessage(
  ref: string,
  incompatible: readonly Incompatible[],
  checked: number,
): string {
  const named = incompatible
    .slice(0, 3)
    .map(
      (i) =>
        `${i.namespace}/${i.name} (${i.problems.map((p) => `${p.path}: ${p.detail}`).join("; ")})`,
    );
  const more = incompatible.length > 3 ? `, and ${String(incompatible.length - 3)} more` : "";
  return `chart ${ref} is not rolled out: the values of ${String(incompatible.length)} of ${String(checked)} instance(s) do not fit it: ${named.join(", ")}${more}. Change the chart or those instances (status.compatibility lists them), or set spec.upgrade.allowIncompatible to upgrade the others`;
}

/** The `.spec` schema of a generated CRD. */
function specSchemaOf(crd: ReturnType<typeof buildInstanceCrd>["crd"]): Record<string, unknown> {
  const root = crd.spec.versions[0]?.schema.openAPIV3Schema as
    { properties?: { spec?: Record<string, unknown> } } | undefined;
  return root?.properties?.spec ?? { type: "object" };
}

/** Step 4: the CRD is not Established yet. */
async function reportEstablishing(
  rc: ResourceComposition,
  crdName: string,
  deps: CompositionReconcileDeps,
): Promise<ReconcileResult> {
  const verdict = verdictOf(
    CompositionReason.Registering,
    `waiting for CRD ${crdName} to be established`,
  );
  await deps.writeStatus(rc, {
    observedGeneration: rc.metadata.generation ?? 0,
    conditions: conditionsFor(rc, verdict, deps.now()),
    crd: crdName,
  });
  return { requeueAfterMs: ESTABLISH_POLL_MS };
}

/** Step 2: the admission checks again, then the chart; a failure is reported and retried later. */
async function checkedChart(
  rc: ResourceComposition,
  deps: CompositionReconcileDeps,
): Promise<FetchedChart | ReconcileResult> {
  const creator = rc.metadata.annotations?.[Annotations.AccountIdentity];
  const user = creator ? { username: creator } : {};
  const checks = await validateComposition(rc, undefined, user, deps.checks);
  if (checks.errors.length > 0) {
    const subject = `ResourceComposition ${rc.metadata.name ?? ""}`;
    const message = describeProblems(subject, checks.errors);
    return fail(rc, CompositionReason.ValidationFailed, message, deps);
  }
  try {
    return await deps.chart(rc.spec.newResource.chartURL, rc.spec.newResource.chartName);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return fail(rc, CompositionReason.ChartUnavailable, message, deps);
  }
}

/**
 * Reconciles one composition, level-based:
 *  1. load it from the cache; deleting: refuse while instances exist, or cascade, then remove its CRDs; ensure the
 *     finalizer;
 *  2. run the admission checks again (a composition created while the webhook was down is still judged);
 *  3. register the generated CRD, the chart's own CRDs, the embedded ResourcePolicy/ResourceMonitor and the sample
 *     manifest, all by server-side apply;
 *  4. wait for the CRD to be Established;
 *  5. write status (conditions with a reason on every path, observedGeneration, CRD and chart) and Events;
 *  6. report the fleet's progress towards the registered chart (upgraded / pending / failed / in flight).
 */
export async function reconcileComposition(
  key: string,
  deps: CompositionReconcileDeps,
): Promise<ReconcileResult> {
  const [namespace = "", name = ""] = key.split("/");
  const rc = deps.get(namespace, name);
  if (!rc) return {};
  return inSpan(
    "reconcile ResourceComposition",
    {
      ...reconcileSpan(rc),
      attributes: {
        "kubeplus.kind": "ResourceComposition",
        "k8s.namespace.name": namespace,
        "kubeplus.name": name,
        "kubeplus.generation": rc.metadata.generation ?? 0,
      },
    },
    () => convergeComposition(rc, deps),
  );
}

/** The steps of reconcileComposition past the load. */
async function convergeComposition(
  rc: ResourceComposition,
  deps: CompositionReconcileDeps,
): Promise<ReconcileResult> {
  if (rc.metadata.deletionTimestamp) return finalizeComposition(rc, deps);
  const finalizers = rc.metadata.finalizers ?? [];
  if (!finalizers.includes(COMPOSITION_FINALIZER)) {
    await deps.setFinalizers(rc, [...finalizers, COMPOSITION_FINALIZER]);
    return {};
  }

  const chart = await checkedChart(rc, deps);
  if (!("digest" in chart)) return chart;
  const gated = await compatibilityGate(rc, chart, deps);
  if (gated) return gated;
  const { crdName } = await register(rc, chart, deps);
  if (!(await deps.crdEstablished(crdName))) return reportEstablishing(rc, crdName, deps);
  const ref = { name: chart.metadata.name, version: chart.metadata.version, digest: chart.digest };
  await reportRegistered(rc, { chart, crdName }, deps);
  deps.registered(rc, ref);
  // While instances move to the registered chart, look again soon (instance changes wake it sooner).
  const fleet = deps.fleet(rc, ref);
  return { requeueAfterMs: nextLookMs(rc, fleet) };
}

/** When to look at a registered composition again: soon while its fleet moves or some instances are held. */
function nextLookMs(rc: ResourceComposition, fleet: FleetProgress | undefined): number {
  if (fleet && fleet.pending > 0 && !fleet.halted) return FLEET_POLL_MS;
  // Instances held as incompatible are checked again soon: a fix of their values lets them move.
  return (rc.status?.compatibility?.incompatibleCount ?? 0) > 0 ? GATE_RECHECK_MS : RESYNC_MS;
}

function registeredChart(rc: ResourceComposition | undefined): ChartRef | undefined {
  const chart = rc?.status?.chart;
  if (!chart?.digest) return undefined;
  return { name: chart.name ?? "", version: chart.version ?? "", digest: chart.digest };
}

/**
 * The light path, run whenever one of its instances changes (and after each registration): only the fleet's progress
 * towards the chart the composition has registered, from the watched caches (no chart, no API writes unless the
 * counts moved). The only writer of `status.instances`.
 */
export async function reconcileFleet(
  key: string,
  deps: CompositionReconcileDeps,
): Promise<ReconcileResult> {
  const [namespace = "", name = ""] = key.split("/");
  const rc = deps.get(namespace, name);
  const chart = deps.registeredChart(namespace, name) ?? registeredChart(rc);
  if (!rc || rc.metadata.deletionTimestamp || !chart) return {};
  const fleet = fleetStatus(rc, chart, deps);
  if (!fleet) return {};
  const rollout = rolloutOf(rc, chart, fleet, deps);
  await deps.writeStatus(rc, {
    instances: { ...fleet },
    ...(rollout ? { rollout: rollout.status } : {}),
  });
  if (rollout) await announceWave(rc, rollout.status, fleet, deps);
  return rollout?.recheckAfterMs === undefined ? {} : { requeueAfterMs: rollout.recheckAfterMs };
}

/** The rollout's waves towards the registered chart (rollout.ts decides). */
function rolloutOf(
  rc: ResourceComposition,
  chart: ChartRef,
  fleet: FleetProgress,
  deps: CompositionReconcileDeps,
): RolloutDecision | undefined {
  const members = deps.members(rc, chart);
  if (!members) return undefined;
  const recorded = rc.status?.rollout;
  return decideRollout({
    chart: fleet.chart,
    digest: chart.digest,
    members,
    upgrade: rc.spec.upgrade,
    halted: fleet.halted,
    ...(recorded?.digest === chart.digest ? { recorded } : {}),
    now: deps.now(),
  });
}

/** A new phase or wave is said in an event and on NATS (the counts' own changes are published by fleetStatus). */
async function announceWave(
  rc: ResourceComposition,
  rollout: RolloutStatus,
  fleet: FleetProgress,
  deps: CompositionReconcileDeps,
): Promise<void> {
  const now = waveOf(rollout);
  if (JSON.stringify(waveOf(rc.status?.rollout)) === JSON.stringify(now)) return;
  const { digest: _digest, ...wave } = now;
  deps.emitProgress({
    version: 1,
    namespace: rc.metadata.namespace ?? "",
    name: rc.metadata.name ?? "",
    kind: rc.spec.newResource.resource.kind,
    ...fleet,
    ...wave,
  });
  const warning = rollout.phase === "Halted" || rollout.phase === "Paused";
  await deps.event(
    rc,
    warning ? "Warning" : "Normal",
    `Rollout${rollout.phase ?? ""}`,
    `chart ${rollout.chart ?? ""}: ${rollout.message ?? ""}`,
  );
}

/** What of a rollout is announced when it changes. */
const waveOf = (
  r: RolloutStatus | undefined,
): { digest?: string; phase?: RolloutPhase; wave: number; waves: number } => ({
  ...(r?.digest ? { digest: r.digest } : {}),
  ...(r?.phase ? { phase: r.phase } : {}),
  wave: r?.wave ?? 0,
  waves: r?.waves ?? 0,
});
