import type { Instance, InstanceStatus } from "@kubeplus/api";
import type { RenderedObject } from "@kubeplus/charts";
import { describeNotReady } from "../readiness.js";
import type { ReconcileResult } from "../work-queue.js";
import { POLL_MS, type Converging, type InstanceReconcileDeps } from "./deps.js";
import { identity, InstanceReason, readyOf, report, reportFailure } from "./status.js";

/** Helm's install order of kinds (pkg/release/v1/util/kind_sorter.go); other kinds come after. */
const INSTALL_ORDER = [
  "PriorityClass",
  "Namespace",
  "NetworkPolicy",
  "ResourceQuota",
  "LimitRange",
  "PodDisruptionBudget",
  "ServiceAccount",
  "Secret",
  "ConfigMap",
  "StorageClass",
  "PersistentVolume",
  "PersistentVolumeClaim",
  "CustomResourceDefinition",
  "ClusterRole",
  "ClusterRoleBinding",
  "Role",
  "RoleBinding",
  "Service",
  "DaemonSet",
  "Pod",
  "ReplicationController",
  "ReplicaSet",
  "Deployment",
  "HorizontalPodAutoscaler",
  "StatefulSet",
  "Job",
  "CronJob",
  "IngressClass",
  "Ingress",
  "APIService",
  "MutatingWebhookConfiguration",
  "ValidatingWebhookConfiguration",
];
const orderOf = (kind: string): number => {
  const i = INSTALL_ORDER.indexOf(kind);
  return i < 0 ? INSTALL_ORDER.length : i;
};

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

const nameOf = (o: RenderedObject): string => {
  const name = (o.object.metadata as { name?: unknown } | undefined)?.name;
  return typeof name === "string" ? name : "";
};

/**
 * The release's objects in install order, then by name: the same list whether it came from helm's post-render step
 * (template file order) or from the stored release, so that the inventory and the readiness message do not change,
 * and the status is not rewritten, only because the next poll read them from elsewhere.
 */
function inInstallOrder(objects: readonly RenderedObject[]): RenderedObject[] {
  return [...objects].sort((a, b) => {
    const ka = String(a.object.kind);
    const kb = String(b.object.kind);
    return orderOf(ka) - orderOf(kb) || ka.localeCompare(kb) || nameOf(a).localeCompare(nameOf(b));
  });
}

/** Just after a release moved, its pods come up within a second or two: look again soon, then every POLL_MS. */
const FAST_POLL_MS = 250;
const FAST_POLL_WINDOW_MS = 10_000;

export function readinessPollMs(instance: Instance, now: Date): number {
  const ready = readyOf(instance);
  const since = ready?.status === "False" ? Date.parse(ready.lastTransitionTime) : Number.NaN;
  // No Ready=False yet (the report that set it is not in this cached copy): the release has only just moved.
  if (Number.isNaN(since)) return FAST_POLL_MS;
  return now.getTime() - since < FAST_POLL_WINDOW_MS ? FAST_POLL_MS : POLL_MS;
}

/**
 * Ready only when the release's workloads are (kstatus, readiness.ts): a failed object is Stalled (ProgressFailed),
 * one in progress is Progressing with what it waits for; Ready clears a failure recorded earlier.
 */
export async function reportReadiness(
  c: Converging,
  objects: readonly RenderedObject[],
  deps: InstanceReconcileDeps,
): Promise<ReconcileResult> {
  const { instance, plan, chartStatus } = c;
  const rendered = inInstallOrder(objects);
  const notReady = await deps.notReady(rendered, plan.namespace);
  const extra: Partial<InstanceStatus> = {
    chart: chartStatus,
    inventory: inventoryOf(rendered, plan.namespace),
  };
  const failedObjects = notReady.filter((o) => o.status === "Failed");
  if (failedObjects.length > 0) {
    // Stalled until something changes: looked at again on a spec or chart change, or at the resync.
    const message = failedObjects.map(describeNotReady).join(", ");
    await reportFailure(c, { reason: InstanceReason.ProgressFailed, message }, deps, extra);
    return { requeueAfterMs: deps.resyncMs };
  }
  const waiting = notReady.map(describeNotReady);
  // Status is merge-patched: a failure that no longer holds is removed with an explicit null.
  const cleared: Partial<InstanceStatus> = instance.status?.failedChart
    ? { failedChart: null }
    : {};
  if (waiting.length > 0) {
    await report(
      instance,
      plan,
      {
        ready: false,
        reason: InstanceReason.Progressing,
        message: `waiting for ${waiting.join(", ")}`,
        extra,
      },
      deps,
    );
    return { requeueAfterMs: readinessPollMs(instance, deps.now()) };
  }
  const message = `release ${plan.release} (chart ${chartStatus.ref ?? ""}) is ready in namespace ${plan.namespace}`;
  const before = readyOf(instance);
  await report(
    instance,
    plan,
    { ready: true, reason: InstanceReason.Ready, message, extra: { ...extra, ...cleared } },
    deps,
  );
  if (before?.status !== "True" || before.message !== message) {
    deps.emit({
      subject: "InstanceReady",
      payload: {
        ...identity(instance),
        release: `${plan.namespace}:${plan.release}`,
        targetNamespace: plan.namespace,
        chart: chartStatus.ref ?? "",
      },
    });
  }
  return { requeueAfterMs: deps.resyncMs };
}
