import type { CoreV1Api } from "@kubernetes/client-node";

/** A workload condition or an event, as far as telling a quota refusal goes. */
export interface RefusalSignal {
  readonly type?: string;
  readonly status?: string;
  readonly reason?: string;
  readonly message?: string;
}

// What the apiserver's ResourceQuota admission says when it refuses a pod: over the quota, or a container that
// gives no value for a resource the quota limits.
const EXCEEDED = /exceeded quota: ([a-z0-9.-]+),\s*(.*)$/s;
const MUST_SPECIFY = /failed quota: ([a-z0-9.-]+): (must specify .*)$/s;

/**
 * Why the workload's pods are not being created, when a ResourceQuota refuses them: from the ReplicaFailure
 * condition the ReplicaSet and Deployment controllers set, or a FailedCreate event (the StatefulSet controller's
 * only trace). Undefined when nothing says so. Pure.
 */
export function quotaRefusal(signals: readonly RefusalSignal[]): string | undefined {
  for (const s of signals) {
    const failure =
      (s.type === "ReplicaFailure" && s.status === "True") || s.reason === "FailedCreate";
    const refusal = failure && s.message ? describeRefusal(s.message) : undefined;
    if (refusal) return refusal;
  }
  return undefined;
}

/** The same, from a workload's status (its conditions). */
export function quotaRefusalOf(
  status: { conditions?: readonly RefusalSignal[] } | undefined,
): string | undefined {
  return quotaRefusal(status?.conditions ?? []);
}

function describeRefusal(message: string): string | undefined {
  const exceeded = EXCEEDED.exec(message);
  if (exceeded)
    return `its pods are refused by ResourceQuota ${exceeded[1] ?? ""} (exceeded quota: ${(exceeded[2] ?? "").trim()}): raise the composition's quota, or lower what the instance asks for`;
  const unspecified = MUST_SPECIFY.exec(message);
  if (unspecified)
    return `its pods are refused by ResourceQuota ${unspecified[1] ?? ""} (${(unspecified[2] ?? "").trim()}): give the composition a podconfig with requests and limits (LimitRange defaults), or give these containers resources`;
  return undefined;
}

/** A readiness reason with the quota refusal, when there is one, after it. */
export function withQuotaRefusal(reason: string, refusal: string | undefined): string {
  return refusal ? `${reason}; ${refusal}` : reason;
}

/**
 * Reads the FailedCreate events of a not-ready workload (and of its ReplicaSets, named `<name>-<hash>`) and says
 * whether a ResourceQuota refused its pods. The workload's own conditions come first, as they cost nothing.
 */
export async function readQuotaRefusal(
  core: CoreV1Api,
  workload: { name: string; namespace: string; conditions?: readonly RefusalSignal[] },
): Promise<string | undefined> {
  const fromConditions = quotaRefusal(workload.conditions ?? []);
  if (fromConditions) return fromConditions;
  const events = await core.listNamespacedEvent({
    namespace: workload.namespace,
    fieldSelector: "reason=FailedCreate",
  });
  // The workload itself (a StatefulSet), or one of its ReplicaSets (`<deployment>-<pod-template-hash>`).
  const replicaSet = new RegExp(`^${workload.name.replace(/[.]/g, "\\.")}-[a-z0-9]{5,10}$`);
  const own = events.items.filter((e) => {
    const name = e.involvedObject.name ?? "";
    return name === workload.name || replicaSet.test(name);
  });
  // The newest first: an old refusal since fixed should not be what is reported.
  own.sort(
    (a, b) =>
      new Date(String(b.lastTimestamp ?? b.eventTime ?? 0)).getTime() -
      new Date(String(a.lastTimestamp ?? a.eventTime ?? 0)).getTime(),
  );
  return quotaRefusal(own.map((e) => ({ reason: e.reason, message: e.message })));
}
