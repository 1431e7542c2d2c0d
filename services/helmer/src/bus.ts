import type { NatsConnection } from "@nats-io/nats-core";
import { publish, type EventSubject, type RequestOf } from "@kubeplus/contracts";

/**
 * NATS as the helmer uses it: optional. The controllers start from the cluster whether or not NATS answers (its
 * events only wake them sooner); what needs a connection runs once there is one, and events sent before that are
 * dropped (they are hints; status in the cluster is the record).
 */
export class Bus {
  private nc: NatsConnection | undefined;
  private readonly waiting: ((nc: NatsConnection) => void)[] = [];

  attach(nc: NatsConnection): void {
    this.nc = nc;
    for (const fn of this.waiting.splice(0)) fn(nc);
  }

  /** Runs `fn` with the connection, now or once it exists. */
  whenConnected(fn: (nc: NatsConnection) => void): void {
    if (this.nc) fn(this.nc);
    else this.waiting.push(fn);
  }

  /** Publishes an event; false when there is no connection yet (the event is dropped). */
  publish<S extends EventSubject>(name: S, payload: RequestOf<S>): boolean {
    if (!this.nc) return false;
    publish(this.nc, name, payload);
    return true;
  }

  async drain(): Promise<void> {
    await this.nc?.drain();
  }
}
