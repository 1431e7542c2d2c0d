import type { NatsConnection, Status } from "@nats-io/nats-core";
import { describe, expect, it } from "vitest";
import { watchNatsConnection } from "./nats-status.js";

/** A connection whose status events the test sends one by one. */
function fakeConnection(): { nc: NatsConnection; send(s: Status): Promise<void>; close(): void } {
  const waiting: ((s: IteratorResult<Status>) => void)[] = [];
  let closed = false;
  const nc = {
    status: () => ({
      [Symbol.asyncIterator]: () => ({
        next: () => new Promise<IteratorResult<Status>>((resolve) => waiting.push(resolve)),
      }),
    }),
    isClosed: () => closed,
    isDraining: () => false,
  } as unknown as NatsConnection;
  return {
    nc,
    send: async (s) => {
      await new Promise((r) => setTimeout(r, 0));
      waiting.shift()?.({ value: s, done: false });
      await new Promise((r) => setTimeout(r, 0));
    },
    close: () => {
      closed = true;
    },
  };
}

describe("watchNatsConnection", () => {
  it("is unreachable from a disconnect until the reconnect, and tells each change once", async () => {
    const f = fakeConnection();
    const changes: boolean[] = [];
    const link = watchNatsConnection(f.nc, (up) => changes.push(up));
    expect(link.connected()).toBe(true);
    await f.send({ type: "disconnect", server: "127.0.0.1:4222" });
    expect(link.connected()).toBe(false);
    await f.send({ type: "reconnecting" });
    expect(link.connected()).toBe(false);
    await f.send({ type: "reconnect", server: "127.0.0.1:4222" });
    expect(link.connected()).toBe(true);
    await f.send({ type: "ping", pendingPings: 1 });
    expect(changes).toEqual([false, true]);
  });

  it("is unreachable for good once the connection is closed", async () => {
    const f = fakeConnection();
    const link = watchNatsConnection(f.nc);
    f.close();
    await f.send({ type: "close" });
    expect(link.connected()).toBe(false);
  });
});
