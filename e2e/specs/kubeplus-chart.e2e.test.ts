// The product as users install it: the KubePlus chart installed with the provider kubeconfig (no cluster-admin),
// the services running as the chart's identity, the seed walkthrough against that installed configuration (what
// `make demo` runs), KubePlus itself upgraded to a new chart version while tenants run, and a clean uninstall.
import { execFile } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  helm,
  readStack,
  repoRoot,
  runDemo,
  stackDown,
  stackUp,
  type Demo,
  type StackState,
} from "@kubeplus/dev";
import { instanceNamespace, TestCluster, sharedChartsDir, waitFor } from "@kubeplus/testing";

const run = promisify(execFile);
const cluster = new TestCluster();
const work = mkdtempSync(join(tmpdir(), "kubeplus-chart-"));
const stackDir = join(work, "stack");
const NS = "kubeplus";
const transcript: string[] = [];
let stack: StackState;

interface TenantFacts {
  readonly volumes: string;
  readonly password: string;
  readonly ready: string;
}

async function tenantFacts(name: string): Promise<TenantFacts> {
  const get = async (args: string[]): Promise<string> => (await cluster.kubectl(args)).stdout;
  const tenant = await instanceNamespace(cluster, {
    plural: "wordpressmysqlservices",
    namespace: NS,
    name,
  });
  return {
    volumes: await get([
      "get",
      "pvc",
      "-n",
      tenant,
      "-o",
      "jsonpath={range .items[*]}{.metadata.name}={.metadata.uid}:{.spec.volumeName} {end}",
    ]),
    password: await get(["get", "secret", "-n", tenant, "-o", "jsonpath={.items[*].data}"]),
    ready: await get([
      "get",
      "wordpressmysqlservice",
      name,
      "-n",
      NS,
      "-o",
      'jsonpath={.status.conditions[?(@.type=="Ready")].status}',
    ]),
  };
}

/** KubePlus 0.2.0 rolls out while both tenants run: new pods, the services restarted, the tenants untouched. */
async function upgradeKubePlus(demo: Demo): Promise<void> {
  const before = {
    t1: await tenantFacts("wp-tenant1"),
    t2: await tenantFacts("wp-tenant2"),
  };
  expect(before.t1.ready).toBe("True");
  const natsCa = async (): Promise<string> =>
    (
      await cluster.kubectl([
        "get",
        "secret",
        "kubeplus-nats-ca",
        "-n",
        NS,
        "-o",
        "jsonpath={.data.tls\\.crt}",
      ])
    ).stdout;
  const caBefore = await natsCa();
  expect(caBefore).not.toBe("");
  expect(before.t1.volumes).toMatch(/uploads=.*:pvc-/);
  const packaged = await helm(
    { dir: work },
    cluster.state,
    [
      "package",
      join(repoRoot, "deploy", "charts", "kubeplus"),
      "--version",
      "0.2.0",
      "--app-version",
      "0.2.0",
      "-d",
      work,
    ],
    process.env.PATH,
  );
  expect(packaged).toContain("kubeplus-0.2.0.tgz");
  // As a rollout does: the old pods go, the chart is upgraded, the new ones start (as the same identity).
  await stackDown(stackDir, () => undefined);
  stack = await stackUp({
    cluster: cluster.state,
    dir: stackDir,
    namespace: NS,
    chart: join(work, "kubeplus-0.2.0.tgz"),
    report: (line) => transcript.push(line),
    env: process.env,
  });
  const history = await helm(
    stack,
    cluster.state,
    ["history", "kubeplus", "-n", NS, "--kubeconfig", stack.providerKubeconfig, "-o", "json"],
    process.env.PATH,
  );
  const revisions = JSON.parse(history) as { chart: string; status: string }[];
  expect(revisions.at(-1)).toMatchObject({ chart: "kubeplus-0.2.0", status: "deployed" });
  const images = await demo.sh("kubectl", [
    "get",
    "deploy",
    "-n",
    NS,
    "-o",
    "jsonpath={.items[*].spec.template.spec.containers[0].image}",
  ]);
  expect(images.split(" ").sort()).toEqual([
    "ghcr.io/kubeplus-ts/crd-hook:0.2.0",
    "ghcr.io/kubeplus-ts/helmer:0.2.0",
    "ghcr.io/kubeplus-ts/kubeconfig-generator:0.2.0",
    "ghcr.io/kubeplus-ts/metrics-collector:0.2.0",
  ]);
  // NATS's CA and certificates survive the upgrade (the chart reuses its Secrets): connected services keep working.
  expect(await natsCa()).toBe(caBefore);
  // The tenants kept their volumes and generated passwords and stayed Ready throughout.
  expect(await tenantFacts("wp-tenant1")).toEqual(before.t1);
  expect(await tenantFacts("wp-tenant2")).toEqual(before.t2);
  // The new helmer leads and acts: a change made after the upgrade reaches the tenant's release.
  await demo.sh("kubectl", [
    "patch",
    "wordpressmysqlservice",
    "wp-tenant2",
    "-n",
    NS,
    "--type",
    "merge",
    "-p",
    '{"spec":{"wordpress":{"replicas":3}}}',
  ]);
  await waitFor(
    async () =>
      (
        await cluster.kubectl([
          "get",
          "deploy",
          "-n",
          await instanceNamespace(cluster, {
            plural: "wordpressmysqlservices",
            namespace: NS,
            name: "wp-tenant2",
          }),
          "-l",
          "app.kubernetes.io/component=web",
          "-o",
          "jsonpath={.items[0].spec.replicas}",
        ])
      ).stdout === "3",
    { what: "wp-tenant2's WordPress to be scaled to 3 by the upgraded helmer", timeoutMs: 90_000 },
  );
}

beforeAll(async () => {
  stack = await stackUp({
    cluster: cluster.state,
    dir: stackDir,
    namespace: NS,
    report: (line) => transcript.push(line),
    env: process.env,
  });
}, 300_000);

afterAll(async () => {
  await stackDown(stackDir, () => undefined);
  await run(process.execPath, [
    join(repoRoot, "cli", "dist", "provider-kubeconfig", "main.js"),
    "delete",
    NS,
    "-k",
    cluster.state.kubeconfig,
  ]).catch(() => undefined);
  await cluster.kubectl(["delete", "namespace", NS, "--wait=false"]);
});

describe("the KubePlus chart", () => {
  it("installs with the provider kubeconfig and runs every service as that identity", async () => {
    expect(stack.services.map((s) => s.name)).toEqual(
      expect.arrayContaining(["helmer", "kubeconfig-generator", "crd-hook"]),
    );
    const pods = await cluster.kubectl([
      "get",
      "pods",
      "-n",
      NS,
      "-o",
      "jsonpath={range .items[*]}{.spec.serviceAccountName}/{.status.phase} {end}",
    ]);
    // NATS's credentials, made by the chart: its CA, the server's certificate, one per identity.
    const natsSecrets = await cluster.kubectl([
      "get",
      "secret",
      "-n",
      NS,
      "-l",
      "app.kubernetes.io/component=nats",
      "-o",
      "jsonpath={.items[*].metadata.name}",
    ]);
    expect(natsSecrets.stdout.split(" ").sort()).toEqual(
      [
        "ca",
        "crd-hook",
        "helmer",
        "kubeconfig-generator",
        "metrics-collector",
        "provider",
        "server",
      ].map((n) => `kubeplus-nats-${n}`),
    );
    // Four services (crd-hook twice) and NATS, all Running; the services act as kubeplus-saas-provider.
    expect(pods.stdout.trim().split(" ")).toHaveLength(6);
    expect(pods.stdout).not.toMatch(/Pending|Failed/);
    const leases = await cluster.kubectl([
      "get",
      "lease",
      "-n",
      NS,
      "-o",
      "jsonpath={range .items[*]}{.metadata.name}={.spec.holderIdentity} {end}",
    ]);
    expect(leases.stdout).toContain("kubeplus-helmer=helmer-local");
    const webhook = await cluster.kubectl([
      "get",
      "validatingwebhookconfiguration",
      "kubeplus-crd-hook",
      "-o",
      "jsonpath={.metadata.labels.app\\.kubernetes\\.io/managed-by}/{.webhooks[0].clientConfig.url}",
    ]);
    // Owned by the release (so helm uninstall removes it), filled in by crd-hook.
    expect(webhook.stdout).toMatch(/^Helm\/https:\/\/127\.0\.0\.1:\d+\/validate$/);
  });

  it("runs the walkthrough against the installed configuration, upgrades KubePlus under running tenants and uninstalls cleanly", async () => {
    const stackBefore = readStack(stackDir);
    expect(stackBefore?.release).toBe("kubeplus");
    await runDemo({
      cluster: cluster.state,
      stack,
      workDir: join(work, "demo"),
      sharedCharts: sharedChartsDir(),
      env: process.env,
      out: (text) => transcript.push(text),
      beforeCleanUp: upgradeKubePlus,
    }).catch((err: unknown) => {
      throw new Error(
        `${String(err)}\n--- transcript (end) ---\n${transcript.join("").slice(-4000)}`,
      );
    });
    const text = transcript.join("");
    expect(text).toMatch(/wp-tenant1\s+True\s+Ready\s+wordpress-mysql-0\.2\.0/);
    // Uninstalled: no release, no webhook configuration; the platform CRDs stay (tenants' data is not taken).
    const list = await helm(
      stack,
      cluster.state,
      ["list", "-n", NS, "--kubeconfig", stack.providerKubeconfig, "-q"],
      process.env.PATH,
    );
    expect(list.trim()).toBe("");
    expect(
      (await cluster.kubectl(["get", "crd", "resourcecompositions.workflows.kubeplus"])).code,
    ).toBe(0);
    const leftovers = await cluster.kubectl([
      "get",
      "validatingwebhookconfigurations,mutatingwebhookconfigurations",
      "-o",
      "name",
    ]);
    expect(leftovers.stdout).not.toContain("kubeplus-crd-hook");
  });
});
