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
  lintChartCrds,
  type FetchedChart,
} from "@kubeplus/charts";
import type { RequestOf } from "@kubeplus/contracts";
import { TerminalError } from "@kubeplus/kube/lite";
import { inSpan } from "@kubeplus/runtime";
import { reconcileSpan } from "./trace.js";
import type { FleetProgress } from "./fleet.js";
import type { ReconcileResult } from "./work-queue.js";

/** The field manager of every object the helmer applies. */
export const FIELD_MANAGER = "kubeplus-helmer";
export const COMPOSITION_LABEL = "kubeplus.dev/composition";

/** Finalizer on every composition: its instances (when cascading), CRD and chart CRDs go before it does. */
export const COMPOSITION_FINALIZER = "workflows.kubeplus/finalizer";

export const CompositionReason = {
  Registered: "Registered",
  DeletionBlocked: "DeletionBlocked",
  Deleting: "Deleting",
  Registering: "Registering",
  ValidationFailed: "ValidationFailed",
  ChartUnavailable: "ChartUnavailable",
} as const;

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
  /** `namespace/name` of every instance of the composition's kind, read from the API (none if not served). */
  listInstances(
    rc: ResourceComposition,
  ): Promise<{ namespace: string; name: string; deleting: boolean }[]>;
  deleteInstance(rc: ResourceComposition, namespace: string, name: string): Promise<void>;
  /** Deletes the generated CRD and the chart's CRDs; returns how many still exist. */
  deleteCrds(rc: ResourceComposition): Promise<number>;
  /** Where the fleet stands against the registered chart (undefined while the kind is not watched). */
  fleet(rc: ResourceComposition, chart: ChartRef): FleetProgress | undefined;
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
      : reason === CompositionReason.ValidationFailed
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
  const { crdName } = await register(rc, chart, deps);
  if (!(await deps.crdEstablished(crdName))) return reportEstablishing(rc, crdName, deps);
  const ref = { name: chart.metadata.name, version: chart.metadata.version, digest: chart.digest };
  await reportRegistered(rc, { chart, crdName }, deps);
  deps.registered(rc, ref);
  // While instances move to the registered chart, look again soon (instance changes wake it sooner).
  const fleet = deps.fleet(rc, ref);
  const moving = fleet && fleet.pending > 0 && !fleet.halted;
  return { requeueAfterMs: moving ? FLEET_POLL_MS : RESYNC_MS };
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
  if (fleet) await deps.writeStatus(rc, { instances: { ...fleet } });
  return {};
}
