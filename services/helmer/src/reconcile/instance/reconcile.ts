import {
  ConditionType,
  findCondition,
  isConditionTrue,
  targetNamespaceFor,
  type Instance,
  type ResourceComposition,
} from "@kubeplus/api";
import { apiErrorMessage, type TerminalError } from "@kubeplus/kube/lite";
import { inSpan } from "@kubeplus/runtime";
import { logReadyChange, objectFields, stateEvent } from "../state-log.js";
import { reconcileSpan } from "../trace.js";
import { planInstance, releasePlan, type InstancePlan } from "../instance-desired.js";
import type { ReconcileResult } from "../work-queue.js";
import { CompositionReason } from "../reconcile-composition.js";
import {
  INSTANCE_FINALIZER,
  POLL_MS,
  type Applied,
  type Converging,
  type InstanceReconcileDeps,
} from "./deps.js";
import { install } from "./install.js";
import { claimNamespace } from "./namespace.js";
import { prepare } from "./prepare.js";
import { reportReadiness } from "./readiness-report.js";
import { decideHelmAction } from "./state.js";
import { InstanceReason, instanceRef, readyOf, report, saysNothingYet } from "./status.js";
import { finalize } from "./uninstall.js";
import { unlock } from "./unlock.js";
import { upgrade } from "./upgrade.js";

/** The composition has registered its current spec (so its chart has been checked and its CRD is served). */
function compositionSettled(rc: ResourceComposition): boolean {
  return (
    isConditionTrue(rc.status?.conditions, ConditionType.Ready) &&
    (rc.status?.observedGeneration ?? 0) >= (rc.metadata.generation ?? 0)
  );
}

/** The composition's compatibility gate holds its new chart back: its instances stay as they are, Ready kept. */
const heldByGate = (rc: ResourceComposition | undefined): boolean =>
  findCondition(rc?.status?.conditions, ConditionType.Ready)?.reason ===
  CompositionReason.UpgradeBlocked;

/** What an instance of a composition that has not registered its current spec waits for. */
function compositionNotReady(rc: ResourceComposition | undefined): string {
  if (!rc) return "waiting for its ResourceComposition, which is gone or not seen yet";
  const name = `${rc.metadata.namespace ?? ""}/${rc.metadata.name ?? ""}`;
  const ready = findCondition(rc.status?.conditions, ConditionType.Ready);
  const why = ready ? `${ready.reason}: ${ready.message}` : "not registered yet";
  return `waiting for ResourceComposition ${name} to register its current spec (${why})`;
}

/**
 * While the composition's gate holds a chart change back, nothing moves: the release keeps serving (Ready kept), a
 * change of the instance's own values waits too, and the instance says why.
 */
async function waitForGate(
  instance: Instance,
  rc: ResourceComposition,
  plan: ReturnType<typeof releasePlan>,
  deps: InstanceReconcileDeps,
): Promise<ReconcileResult> {
  const gate = rc.status?.compatibility;
  await report(
    instance,
    plan,
    {
      ready: false,
      keepReady: true,
      reason: InstanceReason.CompositionUpgradeBlocked,
      message: `ResourceComposition ${rc.metadata.namespace ?? ""}/${rc.metadata.name ?? ""} holds chart ${gate?.chart ?? "(new)"} back: the values of ${String(gate?.incompatibleCount ?? 0)} instance(s) do not fit it (see its status); this instance waits on its current chart`,
    },
    deps,
  );
  return { requeueAfterMs: GATE_WAIT_MS };
}

/** How often an instance held by its composition's gate looks again (the composition's change wakes it sooner). */
const GATE_WAIT_MS = 30_000;

/**
 * A new instance says what it waits for before any step that can take a while (the namespace, the isolation objects,
 * a chart download, helm), not when the first of them is done.
 */
async function reportPreparing(
  instance: Instance,
  rc: ResourceComposition,
  plan: InstancePlan,
  deps: InstanceReconcileDeps,
): Promise<void> {
  if (!saysNothingYet(instance)) return;
  const { chartName, chartURL } = rc.spec.newResource;
  await report(
    instance,
    plan,
    {
      ready: false,
      reason: InstanceReason.Preparing,
      message: `preparing namespace ${plan.namespace} and fetching chart ${chartName} (${chartURL})`,
    },
    deps,
  );
}

/** The Helm action the release calls for (state.ts), each in its own file as helm-controller lays them out. */
async function act(c: Converging, deps: InstanceReconcileDeps): Promise<ReconcileResult | Applied> {
  const action = decideHelmAction(c);
  if (action.kind === "none") deps.log?.debug("release serves this spec; no helm action");
  else
    deps.log?.info(
      {
        action: action.kind,
        release: `${c.plan.namespace}:${c.plan.release}`,
        chart: c.chartStatus.ref,
      },
      "helm action",
    );
  switch (action.kind) {
    case "none":
      return { objects: c.rendered ?? [] };
    case "recover":
      return unlock(c, action, deps);
    case "install":
      return install(c, deps);
    case "upgrade":
      return upgrade(c, action, deps);
  }
}

/**
 * Reconciles one instance, level-based:
 *  1. load the instance and its composition; deleting: finalize (release, namespace, finalizer: uninstall.ts); a
 *     composition that has not registered its spec is reported (CompositionNotReady), and a new instance says it is
 *     Preparing, before anything that can take a while;
 *  2. ensure the finalizer, the namespace (namespace.ts) and the isolation objects, before any chart object;
 *  3. fetch the composition's chart and read the release (prepare.ts; a deployed release is checked for isolation
 *     again, refusal.ts);
 *  4. the Helm action the release calls for (state.ts): install.ts, upgrade.ts (fleet rollout, and
 *     rollback-remediation.ts when it fails), unlock.ts (a release a crash left pending); helm's render is checked
 *     for isolation and given the pod policy at its post-render step, before anything is applied;
 *  5. Ready only when the release's workloads are (readiness-report.ts); status: helmrelease
 *     `<namespace>:<release>`, chart, inventory, conditions with reasons on every path; events on NATS.
 * Each reconcile logs through its own child logger (objectFields): state changes at info, steps at debug.
 */
export async function reconcileInstance(
  namespace: string,
  name: string,
  deps: InstanceReconcileDeps,
): Promise<ReconcileResult> {
  const instance = deps.get(namespace, name);
  if (!instance) {
    deps.log?.debug({ namespace, name }, "instance not found; nothing to do");
    return {};
  }
  const scoped = scopedTo(instance, deps);
  const { log } = scoped;
  const started = performance.now();
  log?.debug("reconcile started");
  const result = await inSpan(
    `reconcile ${instance.kind}`,
    {
      ...reconcileSpan(instance),
      attributes: {
        "kubeplus.kind": instance.kind,
        "k8s.namespace.name": namespace,
        "kubeplus.name": name,
        "kubeplus.generation": instance.metadata.generation ?? 0,
      },
    },
    () => converge(instance, scoped),
  );
  log?.debug(
    { durationMs: Math.round(performance.now() - started), requeueAfterMs: result.requeueAfterMs },
    "reconcile done",
  );
  return result;
}

/**
 * The deps of one reconcile of `instance`: its own child logger, and status writes that log each change of Ready
 * and record it as a Kubernetes Event (against what this reconcile read, then against its own last write).
 */
function scopedTo<D extends Pick<InstanceReconcileDeps, "writeStatus" | "log" | "recordEvent">>(
  instance: Instance,
  deps: D,
): D {
  const log = deps.log?.child(objectFields(instance));
  let conditions = instance.status?.conditions;
  return {
    ...deps,
    ...(log ? { log } : {}),
    writeStatus: async (target, status) => {
      await deps.writeStatus(target, status);
      if (log)
        logReadyChange(
          log,
          "instance",
          findCondition(conditions, ConditionType.Ready),
          findCondition(status.conditions, ConditionType.Ready),
        );
      const change = stateEvent(conditions, status.conditions);
      conditions = status.conditions ?? conditions;
      if (change)
        await deps.recordEvent?.(target, change).catch((err: unknown) => {
          log?.warn({ err, reason: change.reason }, "could not record the instance's event");
        });
    },
  };
}

function releaseFields(c: Converging): Record<string, unknown> {
  return {
    chart: c.chartStatus.ref,
    release: `${c.plan.namespace}:${c.plan.release}`,
    revision: c.release?.revision,
    releaseStatus: c.release?.status,
  };
}

async function converge(instance: Instance, deps: InstanceReconcileDeps): Promise<ReconcileResult> {
  const { log } = deps;
  const rc = deps.composition();
  const target = targetNamespaceFor(instanceRef(instance), (ns) => deps.namespaceLabels(ns));
  // Deletion needs only the release and namespace names, so an instance can go even after its composition.
  if (instance.metadata.deletionTimestamp) {
    log?.debug({ targetNamespace: target.namespace }, "deleting: finalizing release and namespace");
    return finalize(instance, releasePlan(instance, target), deps);
  }
  if (rc && heldByGate(rc)) return waitForGate(instance, rc, releasePlan(instance, target), deps);
  if (!rc || !compositionSettled(rc)) {
    log?.debug("composition not registered yet; waiting");
    // Said, never waited for in silence: an instance whose kind cannot be served yet tells its user why. A Ready
    // instance stays Ready while its composition registers a new spec: its release still serves.
    await report(
      instance,
      releasePlan(instance, target),
      {
        ready: false,
        keepReady: rc !== undefined,
        reason: InstanceReason.CompositionNotReady,
        message: compositionNotReady(rc),
      },
      deps,
    );
    return { requeueAfterMs: POLL_MS * 2 };
  }
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
    log?.debug("finalizer added");
    return {};
  }
  return release(instance, rc, plan, deps);
}

/** Steps 2 to 5 for an instance that has its finalizer: namespace, isolation, chart, helm, readiness. */
async function release(
  instance: Instance,
  rc: ResourceComposition,
  plan: InstancePlan,
  deps: InstanceReconcileDeps,
): Promise<ReconcileResult> {
  const { log } = deps;
  // After the finalizer: a status write first would make the finalizer's update, made from the same read, conflict.
  await reportPreparing(instance, rc, plan, deps);
  const unclaimed = await claimNamespace(instance, plan, deps);
  if (unclaimed) return unclaimed;
  for (const object of plan.isolation) await deps.apply(object);
  log?.debug(
    { targetNamespace: plan.namespace, objects: plan.isolation.length },
    "namespace claimed and isolation objects applied",
  );
  const prepared = await prepare(instance, rc, plan, deps);
  if (!("chart" in prepared)) return prepared;
  log?.debug(releaseFields(prepared), "chart fetched and release read");
  const acted = await act(prepared, deps);
  return "objects" in acted ? reportReadiness(prepared, acted.objects, deps) : acted;
}

/**
 * A failure only a change can fix (the work queue does not retry it), such as an object of the instance the
 * apiserver refuses: Stalled, with its reason and message.
 */
export async function reportTerminal(
  instance: Instance,
  err: TerminalError,
  deps: Pick<InstanceReconcileDeps, "writeStatus" | "now" | "namespaceLabels" | "log">,
): Promise<void> {
  deps = scopedTo(instance, deps);
  const target = targetNamespaceFor(instanceRef(instance), (ns) => deps.namespaceLabels(ns));
  const reason = err.reason ?? InstanceReason.Invalid;
  await report(
    instance,
    releasePlan(instance, target),
    { ready: false, stalled: true, reason, message: err.message },
    deps,
  );
}

/**
 * A new instance the helmer has seen but cannot start on yet (every worker busy: other instances' helm runs): it says
 * so at once, with how many reconciles are ahead of it, instead of saying nothing until its turn comes.
 */
export async function reportQueued(
  instance: Instance,
  ahead: number,
  deps: Pick<InstanceReconcileDeps, "writeStatus" | "now" | "namespaceLabels">,
): Promise<void> {
  const target = targetNamespaceFor(instanceRef(instance), (ns) => deps.namespaceLabels(ns));
  await report(
    instance,
    releasePlan(instance, target),
    {
      ready: false,
      reason: InstanceReason.Queued,
      message: `waiting for a free worker of the helmer: ${String(ahead)} reconciles ahead of it`,
    },
    deps,
  );
}

/**
 * A reconcile that failed on something that may pass (a busy or unreachable apiserver) and comes back after a
 * backoff: an instance that is not Ready says so, with the error, instead of keeping its last word (or none at all,
 * for a new instance, through growing backoffs). A Ready instance stays Ready: its release still serves it.
 */
export async function reportRetrying(
  instance: Instance,
  err: unknown,
  retryInMs: number,
  deps: Pick<InstanceReconcileDeps, "writeStatus" | "now" | "namespaceLabels">,
): Promise<void> {
  if (instance.metadata.deletionTimestamp || readyOf(instance)?.status === "True") return;
  const target = targetNamespaceFor(instanceRef(instance), (ns) => deps.namespaceLabels(ns));
  await report(
    instance,
    releasePlan(instance, target),
    {
      ready: false,
      reason: InstanceReason.Retrying,
      message: `${apiErrorMessage(err)}; trying again in ${String(Math.ceil(retryInMs / 1000))} s`,
    },
    deps,
  );
}
