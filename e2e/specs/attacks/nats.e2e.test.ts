// Attacks on the message bus (issue 16, item 5): a client that reaches NATS but holds no credential of KubePlus.
// Each test is one attack; it passes only when the product refuses it.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { NatsConnection } from "@nats-io/nats-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AccessNames,
  ClusterIO,
  deleteIdentity,
  issueKubeconfig,
  setUpConsumer,
  setUpProvider,
  type Kubeconfig,
} from "@kubeplus/access";
import { ContractError, request } from "@kubeplus/contracts";
import { connectNats } from "@kubeplus/runtime";
import {
  ManifestDir,
  platformNamespace,
  serviceEnv,
  startService,
  TestCluster,
  type RunningService,
} from "@kubeplus/testing";

const cluster = new TestCluster();
const manifests = new ManifestDir("nats-attacks");
const io = new ClusterIO(cluster.kc, "test");
let kp = "";
let generator: RunningService;
let legit: NatsConnection;
const opened: NatsConnection[] = [];
const TEN_YEARS = 10 * 365 * 24 * 3600;

/** What an attacker who only reaches the NATS port gets: a connection, or the reason it was refused. */
async function anonymous(): Promise<NatsConnection | string> {
  try {
    const nc = await connectNats({
      servers: cluster.state.natsUrl,
      name: "attacker",
      timeoutMs: 3_000,
    });
    opened.push(nc);
    return nc;
  } catch (err) {
    return `refused: ${err instanceof Error ? err.message : String(err)}`;
  }
}

beforeAll(async () => {
  kp = await platformNamespace(cluster, "natsatk");
  const provider = { namespace: kp, serviceAccount: AccessNames.Provider };
  await setUpProvider(io, provider, []);
  const issued = await issueKubeconfig(io, provider, {
    clusterName: "provider",
    durationSeconds: 3600,
  });
  const providerFile = join(manifests.dir, "provider.json");
  writeFileSync(providerFile, JSON.stringify(issued.config), { mode: 0o600 });
  await setUpConsumer(io, { namespace: kp, serviceAccount: "alice" });
  generator = await startService(
    "kubeconfig-generator",
    serviceEnv(cluster.state, { KUBECONFIG: providerFile, KUBEPLUS_NAMESPACE: kp }),
    (l) => l.msg === "kubeconfig-generator started",
  );
  legit = await connectNats({ servers: cluster.state.natsUrl, name: "legit" });
}, 120_000);

afterAll(async () => {
  await Promise.all(opened.map((nc) => nc.close().catch(() => undefined)));
  await legit.close();
  await generator.stop();
  await deleteIdentity(io, { namespace: kp, serviceAccount: "alice" });
  await deleteIdentity(io, { namespace: kp, serviceAccount: AccessNames.Consumer });
  await deleteIdentity(io, { namespace: kp, serviceAccount: AccessNames.Provider });
  await cluster.kubectl(["delete", "namespace", kp, "--wait=false"]);
});

describe("attacks on NATS", () => {
  it("an anonymous client is refused, so it cannot obtain a consumer token from kubeconfig.generate", async () => {
    const nc = await anonymous();
    let outcome = typeof nc === "string" ? "refused" : "connected";
    if (typeof nc !== "string") {
      const got = await request(
        nc,
        "KubeconfigGenerate",
        { version: 1, namespace: kp, serviceAccount: "alice", durationSeconds: TEN_YEARS },
        { timeoutMs: 10_000 },
      ).then(
        (reply) => {
          const user = (JSON.parse(reply.kubeconfig) as Kubeconfig).users[0]?.user.token ?? "";
          return `a token for alice (${String(user.length)} chars) expiring ${reply.expiresAt}`;
        },
        (err: unknown) => `no token (${String(err)})`,
      );
      outcome = `connected anonymously and got ${got}`;
    }
    expect(outcome).toBe("refused");
  });

  it("an anonymous client cannot subscribe to > and read the replies other clients receive", async () => {
    const nc = await anonymous();
    const seen: string[] = [];
    if (typeof nc !== "string") {
      nc.subscribe(">", {
        callback: (_e, m) => {
          seen.push(`${m.subject}: ${m.string().slice(0, 80)}`);
        },
      });
      await nc.flush();
    }
    // A legitimate caller asks for a kubeconfig meanwhile.
    await request(
      legit,
      "KubeconfigGenerate",
      { version: 1, namespace: kp, serviceAccount: "alice", durationSeconds: 900 },
      { timeoutMs: 10_000 },
    );
    await new Promise((r) => setTimeout(r, 300));
    expect(seen.filter((s) => s.includes("kubeconfig"))).toEqual([]);
  });

  it("an anonymous client cannot answer kubeplus.v1.helmer.render in place of the helmer, in its queue group or not", async () => {
    const nc = await anonymous();
    const received: string[] = [];
    if (typeof nc !== "string") {
      for (const queue of ["helmer", undefined]) {
        nc.subscribe("kubeplus.v1.helmer.render", {
          ...(queue ? { queue } : {}),
          callback: (_e, m) => {
            received.push(`${queue ?? "no queue"}: ${m.string().slice(0, 80)}`);
            m.respond(
              JSON.stringify({
                ok: true,
                data: {
                  version: 1,
                  chart: { name: "forged", version: "6.6.6" },
                  objects: [],
                  values: {},
                },
              }),
            );
          },
        });
      }
      await nc.flush();
    }
    const answer = await request(
      legit,
      "HelmerRender",
      { version: 1, chartURL: "https://charts.example/forged-1.0.0.tgz", chartName: "forged" },
      { timeoutMs: 3_000 },
    ).then(
      (reply) => `answered: ${JSON.stringify(reply).slice(0, 120)}`,
      (err: unknown) => (err instanceof ContractError ? err.code : String(err)),
    );
    expect(received).toEqual([]);
    expect(answer).not.toMatch(/^answered/);
  });
});
