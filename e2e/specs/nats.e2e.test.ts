// Proof of realism: a real nats-server with JetStream: durable consumers, acks and redelivery. It runs in the
// control plane's SANDBOX account (its own subject space: KubePlus's identities have no JetStream rights).
import { AckPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { nanos, type NatsConnection } from "@nats-io/nats-core";
import { randomBytes } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { SANDBOX_USER } from "@kubeplus/dev";
import { clusterState, connectNatsAs } from "@kubeplus/testing";

const connections: NatsConnection[] = [];
async function connect(): Promise<NatsConnection> {
  const nc = await connectNatsAs(clusterState(), SANDBOX_USER);
  connections.push(nc);
  return nc;
}

afterEach(async () => {
  await Promise.all(connections.splice(0).map((nc) => nc.close()));
});

async function streamWithDurable(nc: NatsConnection, ackWaitMs: number): Promise<string> {
  const stream = `E2E_${randomBytes(4).toString("hex").toUpperCase()}`;
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: stream, subjects: [`${stream}.>`] });
  await jsm.consumers.add(stream, {
    durable_name: "worker",
    ack_policy: AckPolicy.Explicit,
    ack_wait: nanos(ackWaitMs),
  });
  return stream;
}

describe("NATS JetStream", () => {
  it("round-trips publish, durable consume and ack, and the durable keeps its position across connections", async () => {
    const nc = await connect();
    const stream = await streamWithDurable(nc, 30_000);
    const js = jetstream(nc);
    const ack = await js.publish(`${stream}.instance`, JSON.stringify({ name: "wp-tenant1" }));
    expect(ack.stream).toBe(stream);
    expect(ack.seq).toBe(1);

    const consumer = await js.consumers.get(stream, "worker");
    const first = await consumer.next({ expires: 5_000 });
    expect(first?.json()).toEqual({ name: "wp-tenant1" });
    await first?.ackAck();
    await nc.close();

    // A new connection (a restarted service) resumes the durable after the acked message.
    const nc2 = await connect();
    const js2 = jetstream(nc2);
    await js2.publish(`${stream}.instance`, JSON.stringify({ name: "wp-tenant2" }));
    const resumed = await (await js2.consumers.get(stream, "worker")).next({ expires: 5_000 });
    expect(resumed?.json()).toEqual({ name: "wp-tenant2" });
    expect(resumed?.info.redelivered).toBe(false);
    await resumed?.ackAck();
    const info = await (await jetstreamManager(nc2)).consumers.info(stream, "worker");
    expect(info.num_pending).toBe(0);
    expect(info.num_ack_pending).toBe(0);
  });

  it("redelivers a message that was not acked within ack_wait", async () => {
    const nc = await connect();
    const stream = await streamWithDurable(nc, 500);
    const js = jetstream(nc);
    await js.publish(`${stream}.instance`, "reconcile wp-tenant1");
    const consumer = await js.consumers.get(stream, "worker");

    const unacked = await consumer.next({ expires: 5_000 });
    expect(unacked?.string()).toBe("reconcile wp-tenant1");
    expect(unacked?.info.deliveryCount).toBe(1);

    const again = await consumer.next({ expires: 5_000 });
    expect(again?.string()).toBe("reconcile wp-tenant1");
    expect(again?.info.redelivered).toBe(true);
    expect(again?.info.deliveryCount).toBe(2);
    expect(again?.seq).toBe(unacked?.seq);
    await again?.ackAck();
  });
});
