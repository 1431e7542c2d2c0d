import type { Condition } from "@kubeplus/api";
import type { Logger } from "@kubeplus/runtime";
import type { ObjectEvent } from "./kube-events.js";

/** The fields of every line a reconcile logs: the object it works on, at the generation it read. */
export function objectFields(o: {
  kind?: string;
  metadata: { namespace?: string; name?: string; uid?: string; generation?: number };
}): Record<string, unknown> {
  return {
    kind: o.kind ?? "",
    namespace: o.metadata.namespace ?? "",
    name: o.metadata.name ?? "",
    uid: o.metadata.uid ?? "",
    generation: o.metadata.generation ?? 0,
  };
}

/**
 * One info line when Ready or its reason changes (the state an operator follows), `<what> state changed`; otherwise
 * a debug line, `<what> state unchanged`.
 */
export function logReadyChange(
  log: Logger,
  what: "instance" | "composition",
  before: Condition | undefined,
  after: Condition | undefined,
): void {
  if (!after) return;
  const fields = {
    ready: after.status === "True",
    reason: after.reason,
    previousReason: before?.reason ?? "",
    ...(after.status === "True" ? {} : { message: after.message }),
  };
  if (before?.status !== after.status || before.reason !== after.reason)
    log.info(fields, `${what} state changed`);
  else log.debug(fields, `${what} state unchanged`);
}

/** The condition that tells an object's state: Ready, unless Ready is kept True while Reconciling says more. */
function headline(conditions: readonly Condition[] | undefined): Condition | undefined {
  const ready = conditions?.find((c) => c.type === "Ready");
  const reconciling = conditions?.find((c) => c.type === "Reconciling");
  if (ready?.status === "True" && reconciling?.status === "True") return reconciling;
  return ready;
}

/**
 * The Kubernetes Event a status write tells, when the object's state changed (Ready's status or reason, or
 * Reconciling's reason while Ready is kept): Warning when Stalled. Undefined when nothing changed (a resync).
 */
export function stateEvent(
  before: readonly Condition[] | undefined,
  after: readonly Condition[] | undefined,
): ObjectEvent | undefined {
  const now = headline(after);
  if (!now) return undefined;
  const was = headline(before);
  if (was?.type === now.type && was.status === now.status && was.reason === now.reason)
    return undefined;
  const stalled = after?.find((c) => c.type === "Stalled")?.status === "True";
  return {
    type: stalled ? "Warning" : "Normal",
    reason: now.reason,
    message: now.message === "" ? now.reason : now.message,
  };
}
