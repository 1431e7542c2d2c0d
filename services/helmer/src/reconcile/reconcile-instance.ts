import {
  ConditionType,
  setCondition,
  targetNamespaceFor,
  type Condition,
  type Instance,
  type InstanceStatus,
  type ResourceComposition,
} from "@kubeplus/api";
import type { FetchedChart, RenderedObject } from "@kubeplus/charts";
import { planInstance, releasePlan, type InstancePlan } from "./instance-desired.js";
import type { ReconcileResult } from "./work-queue.js";

/** Finalizer on every instance: its release and namespace go before it does. */
export const INSTANCE_FINALIZER = "workflows.kubeplus/finalizer";

export const InstanceReason = {
  Ready: "Ready",
  Installing: "Installing",
  Upgrading: "Upgrading",
  Progressing: "Progressing",
  InstallFailed: "InstallFailed",
  UpgradeFailed: "UpgradeFailed",
  ChartUnavailable: "ChartUnavailable",
  Deleting: "Deleting",
  CompositionNotReady: "CompositionNotReady",
} as const;

type Obj = Record<string, unknown> & {
  apiVersion: string;
  kind: string;
  metadata: Record<string, unknown>;
};

export interface InstanceReconcileDeps {
  get(namespace: string, name: string): Instance | undefined;
  composition(): ResourceComposition | undefined;
  namespaceLabels(name: string): Record<string, string> | undefined;
  namespaceExists(name: string): Promise<boolean>;
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
  release(plan: InstancePlan): Promise<{ status: string; chart: string } | undefined>;
  releaseValues(plan: InstancePlan): Promise<Record<string, unknown>>;
  upgradeInstall(
    plan: InstancePlan,
    chart: FetchedChart,
    values: Record<string, unknown>,
  ): Promise<void>;
  uninstall(plan: InstancePlan): Promise<void>;
  /** The objects (of those given) that are not ready yet, described ("Deployment/web: 1/2 available"). */
  notReady(objects: readonly RenderedObject[], namespace: string): Promise<string[]>;
  now(): Date;
}

const POLL_MS = 1_000;
const RETRY_FAILED_MS = 30_000;
const RESYNC_MS = 5 * 60_000;

interface Verdict {
  readonly ready: Condition["status"];
  readonly reason: string;
  readonly message: string;
}

/** Ready, Reconciling and Stalled (kstatus): in progress means Reconciling; a failure this generation cannot fix means Stalled. */
function conditions(instance: Instance, v: Verdict, now: Date): Condition[] {
  const generation = instance.metadata.generation ?? 0;
  const failed =
    v.reason === InstanceReason.InstallFailed ||
    v.reason === InstanceReason.UpgradeFailed ||
    v.reason === InstanceReason.ChartUnavailable;
  const inProgress = v.ready !== "True" && !failed;
  let list = setCondition(
    instance.status?.conditions,
    {
      type: ConditionType.Ready,
      status: v.ready,
      reason: v.reason,
      message: v.message,
      observedGeneration: generation,
    },
    now,
  );
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

async function report(
  instance: Instance,
  plan: InstancePlan,
  v: Verdict & { extra?: Partial<InstanceStatus> },
  deps: InstanceReconcileDeps,
): Promise<void> {
  const failed = v.reason.endsWith("Failed") ? { error: v.message } : {};
  await deps.writeStatus(instance, {
    ...instance.status,
    helmrelease: `${plan.namespace}:${plan.release}`,
    observedGeneration: instance.metadata.generation ?? 0,
    conditions: conditions(instance, v, deps.now()),
    ...(v.ready === "True" ? { error: "" } : failed),
    ...v.extra,
  });
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
  await deps.uninstall(plan);
  if (plan.createNamespace && (await deps.namespaceExists(plan.namespace))) {
    await deps.deleteNamespace(plan.namespace);
    return { requeueAfterMs: POLL_MS };
  }
  await deps.setFinalizers(
    instance,
    (instance.metadata.finalizers ?? []).filter((f) => f !== INSTANCE_FINALIZER),
  );
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

/**
 * Install or upgrade when the release is missing, not deployed, on another chart, or installed with other values.
 * Decided from the release itself (the source of truth), never from our own status, which a watch cache may show
 * a step behind.
 */
async function needsHelm(
  instance: Instance,
  plan: InstancePlan,
  chartRef: string,
  deps: InstanceReconcileDeps,
): Promise<{ needed: boolean; installing: boolean }> {
  const release = await deps.release(plan);
  if (!release) return { needed: true, installing: true };
  if (release.status !== "deployed" || release.chart !== chartRef)
    return { needed: true, installing: false };
  const values = await deps.releaseValues(plan);
  return { needed: canonical(values) !== canonical(instance.spec), installing: false };
}

type ChartStatus = NonNullable<InstanceStatus["chart"]>;

/** Step 3: install or upgrade when the release differs from what the instance asks for. */
interface Converging {
  readonly instance: Instance;
  readonly plan: InstancePlan;
  readonly chart: FetchedChart;
  readonly chartStatus: ChartStatus;
}

async function converge(
  c: Converging,
  deps: InstanceReconcileDeps,
): Promise<ReconcileResult | undefined> {
  const { instance, plan, chart, chartStatus } = c;
  const { needed, installing } = await needsHelm(instance, plan, chartStatus.ref ?? "", deps);
  if (!needed) return undefined;
  const reason = installing ? InstanceReason.Installing : InstanceReason.Upgrading;
  await report(
    instance,
    plan,
    {
      ready: "False",
      reason,
      message: `${installing ? "installing" : "upgrading"} release ${plan.release} (chart ${chartStatus.ref ?? ""})`,
    },
    deps,
  );
  try {
    await deps.upgradeInstall(plan, chart, instance.spec);
    return undefined;
  } catch (err) {
    const failed = installing ? InstanceReason.InstallFailed : InstanceReason.UpgradeFailed;
    await report(
      instance,
      plan,
      { ready: "False", reason: failed, message: err instanceof Error ? err.message : String(err) },
      deps,
    );
    return { requeueAfterMs: RETRY_FAILED_MS };
  }
}

/** Step 4: Ready only when the release's workloads are. */
async function reportReadiness(
  c: Converging,
  deps: InstanceReconcileDeps,
): Promise<ReconcileResult> {
  const { instance, plan, chart, chartStatus } = c;
  const rendered = await deps.render(chart, plan, instance.spec);
  const waiting = await deps.notReady(rendered, plan.namespace);
  const extra = { chart: chartStatus, inventory: inventoryOf(rendered, plan.namespace) };
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
    return { requeueAfterMs: POLL_MS };
  }
  const message = `release ${plan.release} (chart ${chartStatus.ref ?? ""}) is ready in namespace ${plan.namespace}`;
  await report(
    instance,
    plan,
    { ready: "True", reason: InstanceReason.Ready, message, extra },
    deps,
  );
  return { requeueAfterMs: RESYNC_MS };
}

/**
 * Reconciles one instance, level-based:
 *  1. load the instance and its composition; deleting: finalize (release, namespace, finalizer);
 *  2. ensure the finalizer, the namespace (owner and Pod Security labels) and the isolation objects, before any
 *     chart object;
 *  3. install or upgrade the release with the instance's spec as values, when the release is missing, failed, on
 *     another chart, or installed with other values (decided from the release, not from our status);
 *  4. Ready only when the release's workloads are ready (Deployments available, StatefulSets ready, Jobs done);
 *  5. status: helmrelease `<namespace>:<release>`, chart, inventory, conditions with reasons on every path.
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
  if (!rc) return { requeueAfterMs: POLL_MS * 5 };
  const plan = planInstance(instance, rc, target);
  if (!instance.metadata.finalizers?.includes(INSTANCE_FINALIZER)) {
    await deps.setFinalizers(instance, [
      ...(instance.metadata.finalizers ?? []),
      INSTANCE_FINALIZER,
    ]);
    return {};
  }
  for (const object of [...(plan.namespaceObject ? [plan.namespaceObject] : []), ...plan.isolation])
    await deps.apply(object);
  let chart: FetchedChart;
  try {
    chart = await deps.chart(rc);
  } catch (err) {
    await report(
      instance,
      plan,
      {
        ready: "False",
        reason: InstanceReason.ChartUnavailable,
        message: err instanceof Error ? err.message : String(err),
      },
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
  const c: Converging = { instance, plan, chart, chartStatus };
  return (await converge(c, deps)) ?? reportReadiness(c, deps);
}
