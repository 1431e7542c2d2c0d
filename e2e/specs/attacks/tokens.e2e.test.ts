// Attacks on token lifetimes (issue 16, item 11): a kubeconfig whose token outlives any reasonable rotation. Neither
// provider-kubeconfig --duration nor a kubeconfig.generate request may mint one; both refuse, naming the maximum, and
// the CLI refuses before it touches the cluster.
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { NatsConnection } from "@nats-io/nats-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AccessNames,
  ClusterIO,
  deleteIdentity,
  issueKubeconfig,
  setUpConsumer,
  setUpProvider,
} from "@kubeplus/access";
import { ContractError, request } from "@kubeplus/contracts";
import {
  connectNatsAs,
  ManifestDir,
  platformNamespace,
  serviceEnv,
  startService,
  TestCluster,
  type RunningService,
} from "@kubeplus/testing";

const run = promisify(execFile);
const cluster = new TestCluster();
const manifests = new ManifestDir("token-attacks");
const io = new ClusterIO(cluster.kc, "test");
const CLI = fileURLToPath(
  new URL("../../../cli/dist/provider-kubeconfig/main.js", import.meta.url),
);
const work = mkdtempSync(join(tmpdir(), "token-attacks-"));
const TEN_YEARS_SECONDS = 10 * 365 * 86_400;
const suffix = Date.now().toString(36);
let kp = "";
let generator: RunningService;
let provider: NatsConnection;

async function providerKubeconfig(
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run("node", [CLI, ...args, "-k", cluster.state.kubeconfig], {
      cwd: work,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? 1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

beforeAll(async () => {
  kp = await platformNamespace(cluster, "tokatk");
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
  await provider.close();
  await generator.stop();
  await deleteIdentity(io, { namespace: `tok-${suffix}`, serviceAccount: "eve" }).catch(
    () => undefined,
  );
  await cluster.kubectl(["delete", "namespace", `tok-${suffix}`, "--wait=false"]);
  await deleteIdentity(io, { namespace: kp, serviceAccount: "alice" });
  await deleteIdentity(io, { namespace: kp, serviceAccount: AccessNames.Consumer });
  await deleteIdentity(io, { namespace: kp, serviceAccount: AccessNames.Provider });
  await cluster.kubectl(["delete", "namespace", kp, "--wait=false"]);
});

describe("attacks on token lifetimes", () => {
  it("provider-kubeconfig refuses a 10-year consumer token, naming the maximum, and touches nothing", async () => {
    const ns = `tok-${suffix}`;
    const r = await providerKubeconfig(["create", ns, "-c", "eve", "--duration", "87600h"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/maximum token lifetime for a consumer is 2160h \(90 days\)/);
    expect(existsSync(join(work, "eve.json"))).toBe(false);
    expect((await cluster.kubectl(["get", "namespace", ns])).code).not.toBe(0);
  });

  it("provider-kubeconfig refuses a 10-year provider token on extract, naming the maximum", async () => {
    const r = await providerKubeconfig(["extract", kp, "--duration", "3650d"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/maximum token lifetime for the provider is 8760h \(365 days\)/);
    expect(existsSync(join(work, `${AccessNames.Provider}.json`))).toBe(false);
  });

  it("kubeconfig.generate refuses a 10-year token, naming the maximum", async () => {
    const outcome = await request(
      provider,
      "KubeconfigGenerate",
      { version: 1, namespace: kp, serviceAccount: "alice", durationSeconds: TEN_YEARS_SECONDS },
      { timeoutMs: 5_000, requester: "provider" },
    ).then(
      (reply) => `a token expiring ${reply.expiresAt}`,
      (err: unknown) => (err instanceof ContractError ? err.message : String(err)),
    );
    expect(outcome).toMatch(/maximum/);
    expect(outcome).toMatch(/2592000|7776000/);
  });
});
