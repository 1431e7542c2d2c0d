import type { InstanceStatus } from "@kubeplus/api";
import { apiErrorMessage } from "@kubeplus/kube/lite";
import type { Converging, InstanceReconcileDeps } from "./deps.js";
import { InstanceReason, reportFailure } from "./status.js";

/** The chart and spec that failed, so that only a change of either tries them again (and the fleet counts it). */
export function failedChartOf(c: Converging): Partial<InstanceStatus> {
  return {
    failedChart: {
      ...(c.chartStatus.ref ? { ref: c.chartStatus.ref } : {}),
      ...(c.chartStatus.digest ? { digest: c.chartStatus.digest } : {}),
      generation: c.instance.metadata.generation ?? 0,
    },
  };
}

/**
 * A failed upgrade is rolled back to the last revision deployed successfully, so that the tenant keeps what it had,
 * and remembered (failedChart), so that only a change of the spec or the chart tries it again. Stalled either way;
 * the message says whether the rollback worked.
 */
export async function remediateFailedUpgrade(
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
