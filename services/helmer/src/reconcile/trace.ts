import { ConditionType, isConditionTrue, Annotations, type Condition } from "@kubeplus/api";
import { ROOT_CONTEXT, trace, type Context, type Link } from "@opentelemetry/api";
import { contextFromTraceparent } from "@kubeplus/runtime";

/** What `reconcileSpan` reads of an instance or a composition. */
export interface TracedObject {
  readonly metadata: {
    readonly generation?: number;
    readonly annotations?: Record<string, string>;
  };
  readonly status?: {
    readonly observedGeneration?: number;
    readonly conditions?: readonly Condition[];
  };
}

/**
 * Where a reconcile's span goes. A reconcile is started by a watch, not by a message, so the admission that caused
 * it is found in the object: crd-hook's mutating webhook records its traceparent (`kubeplus.dev/traceparent`) on a
 * create or a spec change. Until the object is Ready at its current generation, every reconcile is a child of that
 * admission (the creation, or the change, is one trace: install, the readiness polls, the Ready event); afterwards a
 * reconcile (a resync, a drift correction) starts a trace of its own, linked to it.
 */
export function reconcileSpan(object: TracedObject): { parent: Context; links: Link[] } {
  const recorded = contextFromTraceparent(object.metadata.annotations?.[Annotations.TraceParent]);
  const admission = trace.getSpanContext(recorded);
  if (!admission) return { parent: ROOT_CONTEXT, links: [] };
  const settled =
    isConditionTrue(object.status?.conditions, ConditionType.Ready) &&
    (object.status?.observedGeneration ?? 0) >= (object.metadata.generation ?? 0);
  return settled
    ? { parent: ROOT_CONTEXT, links: [{ context: admission }] }
    : { parent: recorded, links: [] };
}
