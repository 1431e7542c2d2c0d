// Proof of realism: a real nats-server with JetStream: durable consumers, acks and redelivery. It runs in the
// control plane's SANDBOX account (its own subject space: KubePlus's identities have no JetStream rights).
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { AckPolicy, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { nanos, type NatsConnection } from "@nats-io/nats-core";
import { connect as natsConnect } from "@nats-io/transport-node";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { repoRoot, SANDBOX_USER } from "@kubeplus/dev";
import { clusterState, connectNatsAs, freePort, waitFor } from "@kubeplus/testing";

const run = promisify(execFile);

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

/** The chart's NATS (templates/nats-auth.yaml, nats.yaml) as `helm template` renders it, run by the pinned nats-server. */
describe("the chart's NATS configuration", () => {
  const NS = "kp-chart-nats";
  const dir = mkdtempSync(join(tmpdir(), "chart-nats-"));
  let server: ChildProcess | undefined;
  let output = "";
  let port = 0;

  /** Connects as the holder of one chart-made Secret (or of none: CA only), checking the server's in-cluster name. */
  async function client(identity?: string): Promise<NatsConnection> {
    const tls = {
      caFile: join(dir, "ca.crt"),
      servername: `nats.${NS}.svc`,
      ...(identity
        ? { certFile: join(dir, `${identity}.crt`), keyFile: join(dir, `${identity}.key`) }
        : {}),
    };
    const nc = await natsConnect({
      servers: `nats://127.0.0.1:${String(port)}`,
      name: `chart-test-${identity ?? "anonymous"}`,
      timeout: 3_000,
      tls,
      ...(identity ? { inboxPrefix: `_INBOX.${identity}` } : {}),
    });
    connections.push(nc);
    return nc;
  }

  beforeAll(async () => {
    const state = clusterState();
    const { stdout } = await run(state.tools.helm, [
      "template",
      "kubeplus",
      join(repoRoot, "deploy", "charts", "kubeplus"),
      "-n",
      NS,
    ]);
    const docs = parseAllDocuments(stdout).map(
      (d) =>
        d.toJS() as { kind: string; metadata: { name: string }; data?: Record<string, string> },
    );
    const secret = (name: string): Record<string, string> =>
      docs.find((d) => d.kind === "Secret" && d.metadata.name === name)?.data ?? {};
    const b64 = (s: string | undefined): string => Buffer.from(s ?? "", "base64").toString();
    const serverTls = secret("kubeplus-nats-server");
    writeFileSync(join(dir, "ca.crt"), b64(serverTls["ca.crt"]));
    writeFileSync(join(dir, "tls.crt"), b64(serverTls["tls.crt"]));
    writeFileSync(join(dir, "tls.key"), b64(serverTls["tls.key"]));
    for (const identity of ["provider", "helmer", "crd-hook"]) {
      const s = secret(`kubeplus-nats-${identity}`);
      expect(b64(s["ca.crt"])).toBe(b64(serverTls["ca.crt"]));
      writeFileSync(join(dir, `${identity}.crt`), b64(s["tls.crt"]));
      writeFileSync(join(dir, `${identity}.key`), b64(s["tls.key"]));
    }
    const conf = docs.find(
      (d) => d.kind === "ConfigMap" && d.metadata.name === "kubeplus-nats-config",
    )?.data?.["nats.conf"];
    expect(conf).toContain("verify_and_map: true");
    // Core NATS only (docs/adr/0007-no-jetstream.md): no JetStream, no volume, nothing to lose with the pod.
    expect(conf).not.toMatch(/jetstream/i);
    const natsSet = docs.find((d) => d.kind === "StatefulSet" && d.metadata.name === "nats") as
      { spec?: { volumeClaimTemplates?: unknown } } | undefined;
    expect(natsSet?.spec).toBeDefined();
    expect(natsSet?.spec?.volumeClaimTemplates).toBeUndefined();
    [port] = [await freePort()];
    const monitor = await freePort();
    // The pod's paths and ports become this test's; the server listens on loopback only.
    const local = (conf ?? "")
      .replaceAll("/etc/nats/tls/", `${dir}/`)
      .replace("port: 4222", `host: 127.0.0.1\nport: ${String(port)}`)
      .replace("http_port: 8222", `http: 127.0.0.1:${String(monitor)}`);
    writeFileSync(join(dir, "nats.conf"), local);
    server = spawn(state.tools.natsServer, ["-c", join(dir, "nats.conf")], {
      env: { POD_NAME: "nats-0" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    server.stdout?.on("data", (c: Buffer) => (output += c.toString()));
    server.stderr?.on("data", (c: Buffer) => (output += c.toString()));
    await waitFor(
      async () => {
        if (server?.exitCode !== null) throw new Error(`nats-server exited:\n${output}`);
        const res = await fetch(`http://127.0.0.1:${String(monitor)}/healthz`).catch(
          () => undefined,
        );
        return res?.ok === true;
      },
      { what: "the chart's nats-server to start", timeoutMs: 20_000, diagnose: () => output },
    );
  });

  afterAll(async () => {
    await Promise.all(connections.splice(0).map((nc) => nc.close().catch(() => undefined)));
    const child = server;
    if (child?.exitCode === null) {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
    }
  });

  it("refuses a client without one of its certificates", async () => {
    const outcome = await client().then(
      () => "connected",
      (err: unknown) => `refused: ${String(err)}`,
    );
    expect(outcome).toMatch(/^refused/);
  });

  it("maps each chart-made certificate to its identity's rights: the helmer serves renders, crd-hook asks, nobody reads >", async () => {
    const helmer = await client("helmer");
    const crdHook = await client("crd-hook");
    const provider = await client("provider");
    const served = helmer.subscribe("kubeplus.v1.helmer.render", {
      queue: "helmer",
      callback: (_e, m) => {
        m.respond("rendered");
      },
    });
    await helmer.flush();
    const reply = await crdHook.request("kubeplus.v1.helmer.render", "{}", { timeout: 3_000 });
    expect(reply.string()).toBe("rendered");
    served.unsubscribe();
    const denied: string[] = [];
    provider.subscribe(">", {
      callback: (err) => {
        if (err) denied.push(err.message);
      },
    });
    await provider.flush().catch(() => undefined);
    await waitFor(() => denied.length > 0, {
      what: "the server to refuse provider's subscription to >",
    });
    expect(denied.join(" ")).toMatch(/permissions violation/i);
  });
});
