import type { Instance } from "@kubeplus/api";
import type { InstancePlan } from "../instance-desired.js";
import type { ReconcileResult } from "../work-queue.js";
import { INSTANCE_FINALIZER, POLL_MS, type InstanceReconcileDeps } from "./deps.js";
import { identity, InstanceReason, instanceRef, report } from "./status.js";

/**
 * Deletion: uninstall the release, delete the namespace KubePlus made, wait for both, then let the instance go (its
 * finalizer removed, InstanceDeleted published). A namespace that is not this instance's (another instance won the
 * name, or it was never KubePlus's) holds no release of this instance: nothing in it is touched.
 */
export async function finalize(
  instance: Instance,
  plan: InstancePlan,
  deps: InstanceReconcileDeps,
): Promise<ReconcileResult> {
  if (!instance.metadata.finalizers?.includes(INSTANCE_FINALIZER)) return {};
  await report(
    instance,
    plan,
    {
      ready: false,
      reason: InstanceReason.Deleting,
      message: `uninstalling ${plan.release} and deleting namespace ${plan.namespace}`,
    },
    deps,
  );
  deps.releaseFleetSlot(instance);
  const owner = plan.createNamespace
    ? await deps.namespaceOwner(plan.namespace, instanceRef(instance))
    : undefined;
  if (owner?.owner !== "other") {
    await deps.uninstall(plan);
    if (plan.createNamespace && (await deps.namespaceExists(plan.namespace))) {
      await deps.deleteNamespace(plan.namespace);
      return { requeueAfterMs: POLL_MS };
    }
  }
  await deps.setFinalizers(
    instance,
    (instance.metadata.finalizers ?? []).filter((f) => f !== INSTANCE_FINALIZER),
  );
  deps.emit({
    subject: "InstanceDeleted",
    payload: {
      ...identity(instance),
      release: `${plan.namespace}:${plan.release}`,
      targetNamespace: plan.namespace,
    },
  });
  return {};
}
