import { apiErrorMessage } from "@kubeplus/kube/lite";
import type { ReconcileResult } from "../work-queue.js";
import {
  IsolationRefusal,
  RETRY_FAILED_MS,
  type Applied,
  type Converging,
  type InstanceReconcileDeps,
} from "./deps.js";
import { runHelm } from "./helm-run.js";
import { refused, retryingRefusal } from "./refusal.js";
import { InstanceReason, report, reportFailure } from "./status.js";

/**
 * First install of the instance's release. A refusal leaves nothing behind (helm stopped at its post-render step); a
 * failed install is uninstalled, so that nothing half-created stays, and tried again later or on a change.
 */
export async function install(
  c: Converging,
  deps: InstanceReconcileDeps,
): Promise<ReconcileResult | Applied> {
  const { instance, plan, chartStatus } = c;
  if (!retryingRefusal(instance)) {
    await report(
      instance,
      plan,
      {
        ready: false,
        reason: InstanceReason.Installing,
        message: `installing release ${plan.release} (chart ${chartStatus.ref ?? ""})`,
      },
      deps,
    );
  }
  try {
    const objects = await runHelm(c, deps);
    // Helm did not show what it applied: the next pass reads it from the release.
    return objects ? { objects } : { requeueAfterMs: 0 };
  } catch (err) {
    if (err instanceof IsolationRefusal) return await refused(c, err, deps);
    await deps.uninstall(plan);
    await reportFailure(
      c,
      { reason: InstanceReason.InstallFailed, message: apiErrorMessage(err) },
      deps,
    );
    return { requeueAfterMs: RETRY_FAILED_MS };
  }
}
