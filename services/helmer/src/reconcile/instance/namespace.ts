import type { Instance } from "@kubeplus/api";
import type { InstancePlan } from "../instance-desired.js";
import type { ReconcileResult } from "../work-queue.js";
import { WAIT_SLOT_MS, type InstanceReconcileDeps } from "./deps.js";
import { InstanceReason, instanceRef, report, reportFailure } from "./status.js";

/**
 * The instance's own namespace, before anything of the chart. A reserved name is refused; the namespace is created,
 * never applied over an existing one, and is this instance's only when it carries its UID. Undefined when the
 * instance may go on.
 */
export async function claimNamespace(
  instance: Instance,
  plan: InstancePlan,
  deps: InstanceReconcileDeps,
): Promise<ReconcileResult | undefined> {
  if (!plan.createNamespace || !plan.namespaceObject) return undefined;
  const reserved = deps.reservedNamespace(plan.namespace);
  const claim = reserved
    ? ({ state: "conflict", detail: reserved } as const)
    : await deps.claimNamespace(plan.namespaceObject, instanceRef(instance));
  if (claim.state === "ours") return undefined;
  if (claim.state === "terminating") {
    await report(
      instance,
      plan,
      {
        ready: false,
        reason: InstanceReason.NamespaceTerminating,
        message: `waiting for namespace ${plan.namespace} of an earlier instance to be deleted`,
      },
      deps,
    );
    return { requeueAfterMs: WAIT_SLOT_MS };
  }
  await reportFailure(
    { instance, plan },
    {
      reason: InstanceReason.NamespaceConflict,
      message: `${claim.detail}; nothing was installed: delete this instance and create it with another name`,
    },
    deps,
  );
  return { requeueAfterMs: deps.resyncMs };
}
