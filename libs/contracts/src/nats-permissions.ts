import { NatsUsers, Subjects, type NatsUser } from "./subjects.js";

/** nats-server's per-user permissions block (`authorization.users[].permissions`), as JSON. */
export interface NatsPermissions {
  /** An identity that publishes nothing of its own gets `deny: [">"]` (its replies still pass: allow_responses). */
  readonly publish: { readonly allow: readonly string[] } | { readonly deny: readonly string[] };
  readonly subscribe: { readonly allow: readonly string[] };
  /** The user may publish a reply to the requests it received, and nothing else on their reply subjects. */
  readonly allow_responses?: boolean;
}

/**
 * Where an identity's replies arrive: `_INBOX.<user>`, so that each identity subscribes to its own inbox only (a
 * shared `_INBOX.>` would let one identity read every other's replies, kubeconfigs included).
 */
export function natsInboxPrefix(user: string): string {
  return `_INBOX.${user}`;
}

/** Every event subject starts with this (the registry's grammar: `kubeplus.v1.evt.<domain>.<past-tense>`). */
export const EVENT_PREFIX = "kubeplus.v1.evt";

/** The subject (and, for request subjects, the queue group) a server-side subscription must use. */
function served(def: { subject: string; queue?: string | undefined }): string {
  return def.queue ? `${def.subject} ${def.queue}` : def.subject;
}

/**
 * What `user` may publish and subscribe to, derived from the subject registry: requests it makes, requests it serves
 * (in its queue group only, replying only to what it received), events it owns, events it reads, and its own inbox.
 * No identity gets a wildcard over the system (`>`, `kubeplus.>`, `_INBOX.>`).
 */
export function natsPermissions(user: NatsUser): NatsPermissions {
  const publish: string[] = [];
  const subscribe: string[] = [natsInboxPrefix(user) + ".>"];
  let serves = false;
  for (const def of Object.values(Subjects)) {
    if (def.pattern === "request") {
      if ((def.requestedBy as readonly string[]).includes(user)) publish.push(def.subject);
      if (def.servedBy === user) {
        subscribe.push(served(def));
        serves = true;
      }
    } else {
      if (def.publishedBy === user) publish.push(def.subject);
      if ((def.subscribedBy as readonly string[]).includes(user)) subscribe.push(def.subject);
    }
  }
  // An identity that reads every event (the provider's tools) may subscribe to them with one wildcard.
  const events = Object.values(Subjects).filter((d) => d.pattern === "event");
  const readsAll = events.every((d) => (d.subscribedBy as readonly string[]).includes(user));
  const subscriptions = readsAll
    ? [...subscribe.filter((s) => !events.some((d) => d.subject === s)), `${EVENT_PREFIX}.>`]
    : subscribe;
  return {
    publish: publish.length > 0 ? { allow: publish } : { deny: [">"] },
    subscribe: { allow: subscriptions },
    ...(serves ? { allow_responses: true } : {}),
  };
}

/** Every identity's permissions: what the chart's and the local control plane's nats-server configurations hold. */
export function natsPermissionTable(): Record<NatsUser, NatsPermissions> {
  return Object.fromEntries(NatsUsers.map((u) => [u, natsPermissions(u)])) as Record<
    NatsUser,
    NatsPermissions
  >;
}
