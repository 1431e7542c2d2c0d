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
