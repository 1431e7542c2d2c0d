import type { NatsConnection } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";

export interface NatsOptions {
  readonly servers: string | readonly string[];
  /** Shown in the server's connection list: the service name. */
  readonly name: string;
  readonly timeoutMs?: number;
  /** Keep trying when the first attempt fails (instead of rejecting): for services that run without NATS. */
  readonly waitOnFirstConnect?: boolean;
}

/**
 * Connects to NATS and reconnects forever: the library default gives up after about 20 s and would leave a
 * service deaf (the Kubernetes API stays the source of truth; NATS only wakes services sooner).
 */
export async function connectNats(options: NatsOptions): Promise<NatsConnection> {
  return connect({
    servers: typeof options.servers === "string" ? options.servers : [...options.servers],
    name: options.name,
    timeout: options.timeoutMs ?? 5_000,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    waitOnFirstConnect: options.waitOnFirstConnect ?? false,
  });
}
