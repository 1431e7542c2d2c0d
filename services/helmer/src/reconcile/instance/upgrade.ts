import { failedOn, incompatibility, PIN_ANNOTATION, type FleetDecision } from "../fleet.js";
import type { ReconcileResult } from "../work-queue.js";
import {
  IsolationRefusal,
  WAIT_SLOT_MS,
  type Applied,
  type Converging,
  type InstanceReconcileDeps,
} from "./deps.js";
import { runHelm } from "./helm-run.js";
import { refused, retryingRefusal } from "./refusal.js";
import { remediateFailedUpgrade } from "./rollback-remediation.js";
import type { HelmAction } from "./state.js";
import { InstanceReason, report } from "./status.js";

/** The composition's gate found this instance's values do not fit the new chart: it stays on its chart, and says why. */
async function heldIncompatible(
  c: Converging,
  deps: InstanceReconcileDeps,
): Promise<ReconcileResult> {
  const problems = incompatibility(c.rc, c.instance, c.chartStatus.digest ?? "") ?? [];
  const listed = problems.map((p) => `${p.path}: ${p.detail}`).join("; ");
  await report(
    c.instance,
    c.plan,
    {
      ready: false,
      keepReady: true,
      reason: InstanceReason.UpgradeIncompatible,
      message: `not moving to chart ${c.chartStatus.ref ?? ""}: this instance's values do not fit it (${listed}); change them to move`,
    },
    deps,
  );
  return { requeueAfterMs: deps.resyncMs };
}

/** A chart change waits for a slot in the fleet rollout; a spent failure budget holds it. Undefined: go. */
async function holdForFleet(
  c: Converging,
  deps: InstanceReconcileDeps,
): Promise<ReconcileResult | undefined> {
  const decision = deps.fleetSlot(c.instance, c.chartStatus.digest ?? "");
  if (decision === "go") return undefined;
  if (decision === "incompatible") return heldIncompatible(c, deps);
  const { reason, message } = fleetHold(c, decision);
  await report(c.instance, c.plan, { ready: false, keepReady: true, reason, message }, deps);
  return { requeueAfterMs: decision === "wait" ? WAIT_SLOT_MS : deps.resyncMs };
}

/** What an instance held back from a chart change says (Ready kept: its release still serves). */
function fleetHold(
  c: Converging,
  decision: Exclude<FleetDecision, "go" | "incompatible">,
): { reason: string; message: string } {
  const ref = c.chartStatus.ref ?? "";
  const rollout = c.rc.status?.rollout;
  switch (decision) {
    case "halted":
      return {
        reason: InstanceReason.UpgradeHalted,
        message: `not moving to chart ${ref}: the fleet upgrade stopped after too many failures (see the composition's status)`,
      };
    case "pinned":
      return {
        reason: InstanceReason.Pinned,
        message: `pinned to chart version ${c.instance.metadata.annotations?.[PIN_ANNOTATION] ?? ""} (annotation ${PIN_ANNOTATION}): not moving to chart ${ref}, and changes of its values wait, until the annotation is removed`,
      };
    case "paused":
      return {
        reason: InstanceReason.UpgradePaused,
        message: `not moving to chart ${ref} yet: the composition's rollout is paused (spec.upgrade.paused)`,
      };
    case "wave":
      return {
        reason: InstanceReason.UpgradePending,
        message: `waiting for its wave to move to chart ${ref}: ${rollout?.message ?? "the rollout's waves are being counted"}`,
      };
    default:
      return {
        reason: InstanceReason.UpgradePending,
        message: `waiting for a fleet upgrade slot to move to chart ${ref}`,
      };
  }
}

/**
 * This spec already failed on this chart and was rolled back: say so again, should a report built from a stale cache
 * have overwritten it, until the spec or the chart changes. The write that recorded it set the error.
 */
async function knownFailure(c: Converging, deps: InstanceReconcileDeps): Promise<ReconcileResult> {
  const error = c.instance.status?.error;
  if (error) {
    const failed = { ready: false, reason: InstanceReason.UpgradeFailed, message: error };
    await report(c.instance, c.plan, failed, deps);
  }
  return { requeueAfterMs: deps.resyncMs };
}

/**
 * Upgrade of a release to the instance's spec or the composition's new chart. A spec that already failed on this
 * chart is not tried again; a chart change goes through the fleet rollout (a slot, or held); Ready stays while the
 * release still serves this very spec. A failed upgrade is rolled back (rollback-remediation.ts).
 */
export async function upgrade(
  c: Converging,
  action: Extract<HelmAction, { kind: "upgrade" }>,
  deps: InstanceReconcileDeps,
): Promise<ReconcileResult | Applied> {
  const { instance, plan, chartStatus } = c;
  if (failedOn(instance, chartStatus.digest ?? "")) return knownFailure(c, deps);
  if (action.chartChange) {
    const held = await holdForFleet(c, deps);
    if (held) return held;
  }
  if (!retryingRefusal(instance)) {
    await report(
      instance,
      plan,
      {
        ready: false,
        keepReady: true,
        reason: InstanceReason.Upgrading,
        message: `upgrading release ${plan.release} (chart ${chartStatus.ref ?? ""})`,
      },
      deps,
    );
  }
  try {
    const objects = await runHelm(c, deps);
    return objects ? { objects } : { requeueAfterMs: 0 };
  } catch (err) {
    if (err instanceof IsolationRefusal) return await refused(c, err, deps);
    await remediateFailedUpgrade(c, err, deps);
    return { requeueAfterMs: deps.resyncMs };
  } finally {
    if (action.chartChange) deps.releaseFleetSlot(instance);
  }
}
