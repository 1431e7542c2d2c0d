import { Annotations } from "@kubeplus/api";

type Obj = Record<string, unknown> & { metadata?: { annotations?: Record<string, string> } };

/**
 * Records who created an object in the `accountidentity` annotation. On update the recorded creator is kept (a
 * client cannot rewrite it; the original KubePlus overwrote it with whoever updated last).
 */
export function recordAccountIdentity(object: Obj, old: Obj | undefined, username: string): Obj {
  const copy = structuredClone(object);
  const previous = old?.metadata?.annotations?.[Annotations.AccountIdentity];
  const identity = previous ?? username;
  copy.metadata = {
    ...(copy.metadata ?? {}),
    annotations: { ...(copy.metadata?.annotations ?? {}), [Annotations.AccountIdentity]: identity },
  };
  return copy;
}

/**
 * Records the admission's W3C traceparent (`kubeplus.dev/traceparent`) on a create, or on an update that changes the
 * spec: the helmer's reconcile of that generation joins the admission's trace. Other updates (a finalizer, a label)
 * keep the recorded one; without a traceparent (tracing off) nothing changes.
 */
export function recordTraceparent(object: Obj, old: Obj | undefined, traceparent?: string): Obj {
  if (!traceparent) return object;
  const specChanged =
    !old || JSON.stringify((old as { spec?: unknown }).spec) !== JSON.stringify(object.spec);
  if (!specChanged) return object;
  return {
    ...object,
    metadata: {
      ...(object.metadata ?? {}),
      annotations: {
        ...(object.metadata?.annotations ?? {}),
        [Annotations.TraceParent]: traceparent,
      },
    },
  };
}
