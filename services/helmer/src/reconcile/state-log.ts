import type { Condition } from "@kubeplus/api";
import type { Logger } from "@kubeplus/runtime";

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
