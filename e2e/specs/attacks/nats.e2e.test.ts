// Attacks on the message bus (issue 16, item 5): a client that reaches NATS with no credential of KubePlus, and a
// client holding one service's credential that tries to do what only another may. Each test is one attack; it passes
// only when NATS (its TLS, certificate mapping and per-identity permissions) refuses it.
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
import { connectNats, type NatsOptions } from "@kubeplus/runtime";
import { CertificateUsage, createCertificateAuthority, issueCertificate } from "@kubeplus/tls";
import {
  connectNatsAs,
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
let provider: NatsConnection;
const opened: NatsConnection[] = [];
const SERVICES = ["crd-hook", "helmer", "kubeconfig-generator", "metrics-collector"] as const;

/**
 * What an attacker who reaches the NATS port gets, trying in turn: plain text; TLS trusting the server's CA (it is no
 * secret) without a certificate; a certificate of its own CA naming the kubeconfig-generator. A connection, or why
 * every attempt was refused.
 */
async function anonymous(): Promise<NatsConnection | string> {
  const forgedCa = await createCertificateAuthority({ commonName: "attacker-ca" });
  const forged = await issueCertificate({
    ca: forgedCa,
    commonName: "kubeconfig-generator",
    usage: CertificateUsage.Client,
  });
  writeFileSync(join(manifests.dir, "forged.crt"), forged.certPem);
  writeFileSync(join(manifests.dir, "forged.key"), forged.keyPem);
  const base = { servers: cluster.state.natsUrl, name: "attacker", timeoutMs: 3_000 };
  const attempts: NatsOptions[] = [
    base,
    { ...base, caFile: cluster.state.natsCaFile },
    {
      ...base,
      caFile: cluster.state.natsCaFile,
      credential: {
        kind: "certificate",
        certFile: join(manifests.dir, "forged.crt"),
        keyFile: join(manifests.dir, "forged.key"),
      },
    },
  ];
  const refusals: string[] = [];
  for (const options of attempts) {
    try {
      const nc = await connectNats(options);
      opened.push(nc);
      return nc;
    } catch (err) {
      refusals.push(err instanceof Error ? err.message : String(err));
    }
  }
  return `refused: ${refusals.join(" | ")}`;
}

/** A connection holding one identity's own credential (what an attacker who stole that Secret holds). */
async function as(user: string): Promise<NatsConnection> {
  const nc = await connectNatsAs(cluster.state, user, { name: `attacker-as-${user}` });
  opened.push(nc);
  return nc;
}

/** Subscribes and records what arrives and any refusal the server sends for this subscription. */
function listen(
  nc: NatsConnection,
  subject: string,
  queue?: string,
): { seen: string[]; errors: string[] } {
  const out = { seen: [] as string[], errors: [] as string[] };
  nc.subscribe(subject, {
    ...(queue ? { queue } : {}),
    callback: (err, m) => {
      if (err) out.errors.push(err.message);
      else out.seen.push(`${m.subject}: ${m.string().slice(0, 80)}`);
    },
  });
  return out;
}

const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 500));

async function askForAlice(nc: NatsConnection, requester: string): Promise<string> {
  return request(
    nc,
    "KubeconfigGenerate",
    { version: 1, namespace: kp, serviceAccount: "alice", durationSeconds: 900 },
    { timeoutMs: 3_000, requester },
  ).then(
    (reply) => {
      const token = (JSON.parse(reply.kubeconfig) as Kubeconfig).users[0]?.user.token ?? "";
      return `a token for alice (${String(token.length)} chars) expiring ${reply.expiresAt}`;
    },
    (err: unknown) => `no token (${String(err)})`,
  );
}

beforeAll(async () => {
  kp = await platformNamespace(cluster, "natsatk");
  const providerSa = { namespace: kp, serviceAccount: AccessNames.Provider };
  await setUpProvider(io, providerSa, []);
  const issued = await issueKubeconfig(io, providerSa, {
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
  provider = await connectNatsAs(cluster.state, "provider");
}, 120_000);

afterAll(async () => {
  await Promise.all(opened.map((nc) => nc.close().catch(() => undefined)));
  await provider.close();
  await generator.stop();
  await deleteIdentity(io, { namespace: kp, serviceAccount: "alice" });
  await deleteIdentity(io, { namespace: kp, serviceAccount: AccessNames.Consumer });
  await deleteIdentity(io, { namespace: kp, serviceAccount: AccessNames.Provider });
  await cluster.kubectl(["delete", "namespace", kp, "--wait=false"]);
});

describe("attacks on NATS", () => {
  it("an anonymous client is refused, so it cannot obtain a consumer token from kubeconfig.generate", async () => {
    const nc = await anonymous();
    const outcome =
      typeof nc === "string"
        ? "refused"
        : `connected anonymously and got ${await askForAlice(nc, "attacker")}`;
    expect(outcome).toBe("refused");
  });

  it("an anonymous client cannot subscribe to > and read the replies other clients receive", async () => {
    const nc = await anonymous();
    const spied = typeof nc === "string" ? undefined : listen(nc, ">");
    if (typeof nc !== "string") await nc.flush();
    expect(await askForAlice(provider, "provider")).toMatch(/^a token for alice/);
    await settle();
    expect(spied?.seen.filter((s) => s.includes("kubeconfig")) ?? []).toEqual([]);
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
                data: { version: 1, chart: { name: "forged", version: "6.6.6" }, objects: [] },
              }),
            );
          },
        });
      }
      await nc.flush();
    }
    const crdHook = await as("crd-hook");
    const answer = await request(
      crdHook,
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

  it("no service's credential may subscribe to >, to all inboxes or to the provider's inbox, so none reads kubeconfig replies", async () => {
    const spies = [];
    for (const user of SERVICES) {
      const nc = await as(user);
      for (const subject of [">", "_INBOX.>", "_INBOX.provider.>", "kubeplus.>"])
        spies.push({ user, subject, ...listen(nc, subject) });
      await nc.flush().catch(() => undefined);
    }
    expect(await askForAlice(provider, "provider")).toMatch(/^a token for alice/);
    await settle();
    for (const spy of spies) {
      expect(spy.seen, `${spy.user} on ${spy.subject}`).toEqual([]);
      expect(spy.errors.join(" "), `${spy.user} on ${spy.subject}`).toMatch(
        /permissions violation/i,
      );
    }
  });

  it("only the provider's tools may ask kubeconfig.generate: every service's credential is refused", async () => {
    for (const user of SERVICES) {
      const nc = await as(user);
      expect(await askForAlice(nc, `attack-as-${user}`), user).toMatch(/^no token/);
    }
    // The generator never saw those requests: nothing was issued to them, nothing refused by it.
    const claimed = generator
      .logs()
      .filter((l) => String(l.claimedRequester).startsWith("attack-as-"));
    expect(claimed).toEqual([]);
  });

  it("only the kubeconfig-generator may serve generate, and only the helmer may answer renders, queue group or not", async () => {
    const intruders = [];
    for (const user of SERVICES) {
      const nc = await as(user);
      if (user !== "kubeconfig-generator") {
        intruders.push({
          user,
          ...listen(nc, "kubeplus.v1.kubeconfig.generate", "kubeconfig-generator"),
        });
        intruders.push({ user, ...listen(nc, "kubeplus.v1.kubeconfig.generate") });
      }
      if (user !== "helmer") {
        intruders.push({ user, ...listen(nc, "kubeplus.v1.helmer.render", "helmer") });
        intruders.push({ user, ...listen(nc, "kubeplus.v1.helmer.render") });
      }
      // Even the rightful server may not listen outside its queue group (a second, silent copy of every request).
      if (user === "helmer") intruders.push({ user, ...listen(nc, "kubeplus.v1.helmer.render") });
      await nc.flush().catch(() => undefined);
    }
    expect(await askForAlice(provider, "provider")).toMatch(/^a token for alice/);
    const crdHook = await as("crd-hook");
    await request(
      crdHook,
      "HelmerRender",
      { version: 1, chartURL: "https://charts.example/x-1.0.0.tgz", chartName: "x" },
      { timeoutMs: 2_000 },
    ).catch(() => undefined);
    await settle();
    for (const i of intruders) {
      expect(i.seen, i.user).toEqual([]);
      expect(i.errors.join(" "), i.user).toMatch(/permissions violation/i);
    }
  });

  it("an event is delivered only from its owner: another service's credential cannot publish it", async () => {
    const watched = listen(provider, "kubeplus.v1.evt.>");
    await provider.flush().catch(() => undefined);
    // crd-hook forging the helmer's "ready", the helmer forging crd-hook's "admitted", the collector forging both.
    const forgeries: [string, string][] = [
      ["crd-hook", "kubeplus.v1.evt.instance.ready"],
      ["helmer", "kubeplus.v1.evt.composition.admitted"],
      ["metrics-collector", "kubeplus.v1.evt.instance.deleted"],
      ["kubeconfig-generator", "kubeplus.v1.evt.instance.metered"],
    ];
    for (const [user, subject] of forgeries) {
      const nc = await as(user);
      nc.publish(subject, JSON.stringify({ forgedBy: user }));
      await nc.flush().catch(() => undefined);
    }
    // The owner's own event does arrive: the watcher would have seen the forgeries.
    const helmer = await as("helmer");
    helmer.publish("kubeplus.v1.evt.instance.ready", JSON.stringify({ publishedBy: "helmer" }));
    await helmer.flush();
    await settle();
    expect(watched.errors).toEqual([]);
    expect(watched.seen).toEqual(['kubeplus.v1.evt.instance.ready: {"publishedBy":"helmer"}']);
  });
});
