import type { ReconcileResult } from "../work-queue.js";
import type { Converging, InstanceReconcileDeps } from "./deps.js";
import type { HelmAction } from "./state.js";
import { InstanceReason, report } from "./status.js";

/**
 * A release left `pending-install`, `pending-upgrade` or `pending-rollback` by a helmer that died mid-operation (helm
 * would refuse any further operation), or a first install that failed: back to a state helm can move on from. A
 * pending install, or a release with no good revision to go back to, is uninstalled; anything else is rolled back to
 * its last good revision, which keeps the tenant's Ready while it does. The next pass installs or upgrades again.
 */
export async function unlock(
  c: Converging,
  action: Extract<HelmAction, { kind: "recover" }>,
  deps: InstanceReconcileDeps,
): Promise<ReconcileResult> {
  const { instance, plan } = c;
  await report(
    instance,
    plan,
    {
      ready: false,
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
