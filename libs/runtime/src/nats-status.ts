import type { NatsConnection } from "@nats-io/nats-core";

/** Whether a NATS connection is up now, for readiness: false from a disconnect until the client reconnects. */
export interface NatsReachability {
  connected(): boolean;
}

/**
 * Follows a connection's status events: `disconnect` (the server went away) makes it unreachable until `reconnect`;
 * a closed or draining connection is unreachable for good. `onChange` hears each change (to log it).
 */
export function watchNatsConnection(
  nc: NatsConnection,
  onChange: (connected: boolean) => void = () => undefined,
): NatsReachability {
  let up = true;
  const set = (next: boolean): void => {
    if (next === up) return;
    up = next;
    onChange(next);
  };
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === "disconnect" || s.type === "close") set(false);
      if (s.type === "reconnect") set(true);
    }
  })();
  return { connected: () => up && !nc.isClosed() && !nc.isDraining() };
}
