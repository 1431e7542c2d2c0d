import { failedOn } from "../fleet.js";
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

/** A chart change waits for a slot in the fleet rollout; a spent failure budget holds it. Undefined: go. */
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
      ready: false,
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
