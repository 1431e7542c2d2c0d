import type { Instance, ResourceComposition } from "@kubeplus/api";
import type { RenderedObject } from "@kubeplus/charts";
import type { InstancePlan } from "../instance-desired.js";
import type { ReconcileResult } from "../work-queue.js";
import { IsolationRefusal, type InstanceReconcileDeps } from "./deps.js";
import { InstanceReason, readyOf, reportFailure } from "./status.js";

/**
 * Refused by the isolation check (at helm's post-render step, or on a deployed release checked again): helm stopped
 * before it created or changed anything, so there is nothing to undo. Tried again at the resync or on a change: the
 * composition may come to allow it. Not recorded as a failed chart, so that one tenant's values never spend a fleet
 * rollout's failure budget.
 */
export async function refused(
  c: { instance: Instance; plan: InstancePlan },
  err: IsolationRefusal,
  deps: InstanceReconcileDeps,
): Promise<ReconcileResult> {
  await reportFailure(c, { reason: InstanceReason.IsolationRefused, message: err.message }, deps);
  return { requeueAfterMs: deps.resyncMs };
}

/** This very spec was refused: trying it again says nothing new until it is installed or refused once more. */
export function retryingRefusal(instance: Instance): boolean {
  const ready = readyOf(instance);
  return (
    ready?.reason === InstanceReason.IsolationRefused &&
    ready.observedGeneration === (instance.metadata.generation ?? 0)
  );
}

/**
 * A deployed release is checked again on every pass: the composition's allowances or the cluster's storage may have
 * changed since helm applied it. A refusal is returned to report; undefined when it still passes.
 */
export function refusalOfServed(
  rc: ResourceComposition,
  plan: InstancePlan,
  rendered: readonly RenderedObject[] | undefined,
  deps: Pick<InstanceReconcileDeps, "isolationProblems">,
): IsolationRefusal | undefined {
  const problems = rendered ? deps.isolationProblems(rc, rendered, plan.namespace) : [];
  return problems.length > 0 ? new IsolationRefusal(problems) : undefined;
}
