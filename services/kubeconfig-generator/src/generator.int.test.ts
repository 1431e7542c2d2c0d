// The kubeconfig-generator as a real process with the provider's identity: it keeps the built-in consumer
// kubeconfig current, serves consumer kubeconfigs over NATS, and never writes a token to its log.
import { writeFileSync } from "node:fs";
import { connect, createServer } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AccessNames,
  ClusterIO,
  deleteIdentity,
  issueKubeconfig,
  kubeconfigSecretName,
  setUpConsumer,
  setUpProvider,
  TOKEN_EXPIRES_ANNOTATION,
  type Kubeconfig,
} from "@kubeplus/access";
import { ContractError, request } from "@kubeplus/contracts";
import {
  connectNatsAs,
  freePort,
  ManifestDir,
  platformNamespace,
  serviceEnv,
  startService,
  TestCluster,
  waitFor,
  type RunningService,
} from "@kubeplus/testing";
import type { NatsConnection } from "@nats-io/nats-core";

const cluster = new TestCluster();
const manifests = new ManifestDir("kubeconfig-generator");
const io = new ClusterIO(cluster.kc, "test");
let kp = "";
let generator: RunningService;
let nc: NatsConnection;
const tokens: string[] = [];

const secretName = kubeconfigSecretName(AccessNames.Consumer);

async function storedKubeconfig(): Promise<{ config: Kubeconfig; expiresAt: string }> {
  const secret = await cluster.core.readNamespacedSecret({ name: secretName, namespace: kp });
  const data = secret.data?.[`${AccessNames.Consumer}.json`] ?? "";
  return {
    config: JSON.parse(Buffer.from(data, "base64").toString()) as Kubeconfig,
    expiresAt: secret.metadata?.annotations?.[TOKEN_EXPIRES_ANNOTATION] ?? "",
  };
}

function fileOf(config: Kubeconfig, name: string): string {
  tokens.push(config.users[0]?.user.token ?? "");
  const path = join(manifests.dir, name);
  writeFileSync(path, JSON.stringify(config), { mode: 0o600 });
  return path;
}

beforeAll(async () => {
  kp = await platformNamespace(cluster, "kpg");
  const provider = { namespace: kp, serviceAccount: AccessNames.Provider };
  await setUpProvider(io, provider, []);
  const issued = await issueKubeconfig(io, provider, {
    clusterName: "provider",
    durationSeconds: 3600,
  });
  const providerFile = fileOf(issued.config, "provider.json");
  await setUpConsumer(io, { namespace: kp, serviceAccount: "alice" });
  generator = await startService(
    "kubeconfig-generator",
    serviceEnv(cluster.state, {
      KUBECONFIG: providerFile,
      KUBEPLUS_NAMESPACE: kp,
      CHECK_SECONDS: "1",
      CONSUMER_TOKEN_SECONDS: "3600",
      MAX_TOKEN_SECONDS: "7200",
      PUBLIC_SERVER_URL: cluster.state.apiServerUrl,
    }),
    (l) => l.msg === "kubeconfig-generator started",
  );
  nc = await connectNatsAs(cluster.state, "provider");
}, 120_000);

afterAll(async () => {
  await nc.close();
  await generator.stop();
  await deleteIdentity(io, { namespace: kp, serviceAccount: "alice" });
  await deleteIdentity(io, { namespace: kp, serviceAccount: AccessNames.Consumer });
  await deleteIdentity(io, { namespace: kp, serviceAccount: AccessNames.Provider });
  await cluster.kubectl(["delete", "namespace", kp, "--wait=false"]);
});

describe("kubeconfig-generator", () => {
  it("runs as the provider, not as an administrator", () => {
    expect(generator.logs().find((l) => l.msg === "kubeconfig-generator started")?.identity).toBe(
      `system:serviceaccount:${kp}:${AccessNames.Provider}`,
    );
  });

  it("stores a working built-in consumer kubeconfig, and renews it when it nears expiry or goes missing", async () => {
    const first = await waitFor(() => storedKubeconfig().catch(() => undefined), {
      what: "the built-in consumer kubeconfig Secret",
      diagnose: () => Promise.resolve(JSON.stringify(generator.logs().slice(-5)).slice(0, 3000)),
    });
    const file = fileOf(first.config, "consumer.json");
    const who = await cluster.kubectl(
      ["auth", "whoami", "-o", "jsonpath={.status.userInfo.username}"],
      file,
    );
    expect(who.stdout).toBe(`system:serviceaccount:${kp}:${AccessNames.Consumer}`);
    expect((await cluster.kubectl(["get", "secrets"], file)).stderr).toContain("forbidden");

    // A token close to expiry (as recorded on the Secret) is renewed on the next check.
    await cluster.kubectl([
      "annotate",
      "--overwrite",
      "secret",
      secretName,
      "-n",
      kp,
      `${TOKEN_EXPIRES_ANNOTATION}=${new Date(Date.now() + 60_000).toISOString()}`,
    ]);
    const renewed = await waitFor(
      async () => {
        const now = await storedKubeconfig();
        return Date.parse(now.expiresAt) > Date.now() + 3_000_000 ? now : undefined;
      },
      { what: "the built-in consumer kubeconfig to be renewed" },
    );
    fileOf(renewed.config, "renewed.json");
    expect(renewed.config.users[0]?.user.token).not.toBe(first.config.users[0]?.user.token);

    await cluster.core.deleteNamespacedSecret({ name: secretName, namespace: kp });
    await waitFor(() => storedKubeconfig().catch(() => undefined), {
      what: "the deleted kubeconfig Secret to come back",
    }).then((k) => fileOf(k.config, "recreated.json"));
  });

  it("answers kubeconfig requests over NATS for consumers, and refuses the provider and strangers", async () => {
    const reply = await request(
      nc,
      "KubeconfigGenerate",
      { version: 1, namespace: kp, serviceAccount: "alice", durationSeconds: 900 },
      { timeoutMs: 10_000, requester: "generator-int-test" },
    );
    const issued = JSON.parse(reply.kubeconfig) as Kubeconfig;
    expect(issued.clusters[0]?.cluster.server).toBe(cluster.state.apiServerUrl);
    const file = fileOf(issued, "alice.json");
    const left = Date.parse(reply.expiresAt) - Date.now();
    expect(left).toBeGreaterThan(800_000);
    expect(left).toBeLessThan(1_000_000);
    const who = await cluster.kubectl(
      ["auth", "whoami", "-o", "jsonpath={.status.userInfo.username}"],
      file,
    );
    expect(who.stdout).toBe(`system:serviceaccount:${kp}:alice`);

    const refused = async (serviceAccount: string, namespace = kp): Promise<string> => {
      const err = await request(
        nc,
        "KubeconfigGenerate",
        { version: 1, namespace, serviceAccount },
        { timeoutMs: 10_000 },
      ).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ContractError);
      return (err as ContractError).message;
    };
    expect(await refused(AccessNames.Provider)).toContain("consumer kubeconfigs only");
    expect(await refused("mallory")).toContain("no consumer mallory");
    expect(await refused("default", "kube-system")).toContain("not managed by KubePlus");
  });

  it("caps token lifetimes, and takes the server URL from its configuration only", async () => {
    const ask = (extra: Record<string, unknown>): Promise<unknown> =>
      request(
        nc,
        "KubeconfigGenerate",
        { version: 1, namespace: kp, serviceAccount: "alice", ...extra } as never,
        { timeoutMs: 10_000 },
      ).then(
        () => "issued",
        (e: unknown) => (e instanceof Error ? e.message : String(e)),
      );
    // Over the generator's MAX_TOKEN_SECONDS (7200 here): refused, saying what to ask for.
    expect(await ask({ durationSeconds: 7201 })).toBe(
      "durationSeconds 7201 exceeds the maximum token lifetime of 7200 s (MAX_TOKEN_SECONDS of the kubeconfig-generator): ask for 7200 or less",
    );
    // Over the schema's ceiling (90 days): refused before it leaves the caller.
    expect(await ask({ durationSeconds: 10 * 365 * 86400 })).toMatch(
      /durationSeconds 315360000 exceeds the maximum of 7776000 \(Token lifetime, at most 90 days here/,
    );
    // A caller cannot choose the API server its kubeconfig points at.
    expect(await ask({ server: "https://attacker.example" })).toMatch(
      /must NOT have additional properties/,
    );
  });

  it("logs every issued kubeconfig with who asked, for which ServiceAccount and until when", () => {
    const issued = generator.logs().filter((l) => l.msg === "kubeconfig issued");
    expect(issued.length).toBeGreaterThan(0);
    expect(issued.find((l) => l.claimedRequester === "generator-int-test")).toMatchObject({
      namespace: kp,
      serviceAccount: "alice",
      authorizedRequesters: "provider",
      expiresAt: expect.stringMatching(/^\d{4}-/) as unknown,
    });
  });

  it("never writes a token to its log", () => {
    const log = generator
      .logs()
      .map((l) => JSON.stringify(l))
      .join("\n");
    expect(log).toContain("kubeconfig issued");
    expect(tokens.length).toBeGreaterThanOrEqual(4);
    for (const token of tokens) expect(log).not.toContain(token.slice(-40));
  });

  it("started before NATS can be reached, it waits for NATS instead of exiting, and starts once it is there", async () => {
    // A port where NATS appears 3 s after the service starts (what a pod meets before kube-proxy programs the
    // Service of NATS): a pipe to the cluster's NATS, opened late.
    const target = new URL(cluster.state.natsUrl.replace(/^tls:/, "nats:"));
    const port = await freePort();
    const late = startService(
      "kubeconfig-generator",
      serviceEnv(cluster.state, {
        KUBECONFIG: join(manifests.dir, "provider.json"),
        KUBEPLUS_NAMESPACE: kp,
        NATS_URL: `nats://127.0.0.1:${String(port)}`,
        POD_NAME: "generator-started-early",
      }),
      (l) => l.msg === "kubeconfig-generator started",
    );
    await sleep(3_000);
    const pipe = createServer((client) => {
      const upstream = connect(Number(target.port), target.hostname);
      client.pipe(upstream).pipe(client);
      client.on("error", () => upstream.destroy());
      upstream.on("error", () => client.destroy());
    });
    await new Promise<void>((resolve) => pipe.listen(port, "127.0.0.1", resolve));
    try {
      const started = await late;
      expect(started.logs().some((l) => l.msg === "NATS not reachable yet; retrying")).toBe(true);
      await started.stop();
    } finally {
      pipe.close();
    }
  }, 60_000);
});
