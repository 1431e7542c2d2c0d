import type { CoreV1Api } from "@kubernetes/client-node";

/** What a Kubernetes Event says about an object (`kubectl describe`, `kubectl events`, the console). */
export interface ObjectEvent {
  readonly type: "Normal" | "Warning";
  readonly reason: string;
  readonly message: string;
}

/** The object an Event is about. */
export interface EventSubject {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata: {
    readonly name?: string;
    readonly namespace?: string;
    readonly uid?: string;
  };
}

/** Records one Event about `subject`, in its namespace, as the helmer (events.k8s.io's core/v1 form). */
export async function recordEvent(
  core: CoreV1Api,
  subject: EventSubject,
  event: ObjectEvent,
): Promise<void> {
  const now = new Date();
  const { name, namespace, uid } = subject.metadata;
  await core.createNamespacedEvent({
    namespace: namespace ?? "",
    body: {
      metadata: { generateName: `${name ?? "object"}.`, namespace },
      involvedObject: { apiVersion: subject.apiVersion, kind: subject.kind, name, namespace, uid },
      type: event.type,
      reason: event.reason,
      message: event.message.slice(0, 1000),
      source: { component: "kubeplus-helmer" },
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    },
  });
}
