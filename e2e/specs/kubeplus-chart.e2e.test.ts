// The product as users install it, exactly what `make up` and `make demo` do: the KubePlus chart installed with the
// provider kubeconfig (no cluster-admin) and the images built here, its four services, the console and NATS running as
// pods on the real node (no local service process), the seed walkthrough against that installation, KubePlus itself
// upgraded to a new chart version and image tag while tenants run and admissions keep coming, and a clean uninstall.
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  helm,
  readStack,
  repoRoot,
  runDemo,
  STACK_SERVICES,
  stackDown,
  stackPods,
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

interface ServicePod {
  readonly name: string;
  readonly uid: string;
  readonly service: string;
  readonly node: string;
  readonly image: string;
  readonly ready: boolean;
}

/** The KubePlus namespace's pods (the four services, the console and NATS) as the administrator sees them. */
async function servicePods(): Promise<ServicePod[]> {
  const got = await cluster.kubectl(["get", "pods", "-n", NS, "-o", "json"]);
  expect(got.code, got.stderr).toBe(0);
  const items = (
    JSON.parse(got.stdout) as {
      items: {
        metadata: { name: string; uid: string; labels?: Record<string, string> };
        spec: { nodeName?: string; containers: { image: string }[] };
        status?: { conditions?: { type: string; status: string }[] };
      }[];
    }
  ).items;
  // The services' and NATS's pods; not `helm test`'s, which stay after their run for `kubectl logs`.
  const components = new Set<string>([...STACK_SERVICES, "nats"]);
  return items.flatMap((p) => {
    const service = p.metadata.labels?.["app.kubernetes.io/name"] ?? "";
    return components.has(service)
      ? [
          {
            name: p.metadata.name,
            uid: p.metadata.uid,
            service,
            node: p.spec.nodeName ?? "",
            image: p.spec.containers[0]?.image ?? "",
            ready:
              p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false,
          },
        ]
      : [];
  });
}

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

/** Tags every KubePlus service image 0.1.0 as `tag` in each real node's containerd: a new version to roll out. */
async function tagImages(tag: string): Promise<void> {
  for (const node of cluster.state.realNodes) {
    const socket = join(cluster.state.runDir, "nodes", node, "containerd", "containerd.sock");
    const ctr = (args: string[]): Promise<unknown> =>
      run(cluster.state.tools.ctr, ["--address", socket, "--namespace", "k8s.io", ...args]);
    for (const service of STACK_SERVICES) {
      const image = `localhost/kubeplus/${service}`;
      await ctr(["images", "rm", `${image}:${tag}`]).catch(() => undefined);
      await ctr(["images", "tag", `${image}:0.1.0`, `${image}:${tag}`]);
    }
  }
}

interface Admissions {
  readonly stop: () => Promise<{ admitted: number; refused: string[] }>;
}

/**
 * Asks the apiserver to admit a new tenant (server-side dry run: every admission webhook runs, nothing is stored)
 * every 250 ms until stopped, as the provider; counts what was admitted and keeps every refusal's message.
 */
function keepAdmitting(demo: Demo): Admissions {
  const file = join(work, "wp-dry-run.yaml");
  writeFileSync(
    file,
    JSON.stringify({
      apiVersion: "platformapi.kubeplus/v1alpha1",
      kind: "WordpressMysqlService",
      metadata: { name: "wp-during-rollout", namespace: NS },
      spec: { tenantName: "rollout", wordpress: { replicas: 1 } },
    }),
  );
  const state = { running: true };
  let admitted = 0;
  const refused: string[] = [];
  const loop = (async () => {
    while (state.running) {
      const got = await cluster.kubectl(["create", "--dry-run=server", "-f", file], demo.provider);
      if (got.code === 0) admitted += 1;
      else refused.push(got.stderr.trim());
      await sleep(250);
    }
  })();
  return {
    stop: async () => {
      state.running = false;
      await loop;
      return { admitted, refused };
    },
  };
}

/**
 * KubePlus 0.2.0 (chart and image tag) rolls out while both tenants run and admissions keep coming: new pods replace
 * every old one, no admission is lost, the tenants are untouched and the new helmer acts.
 */
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
  await tagImages("0.2.0");
  const oldPods = await servicePods();
  const admissions = keepAdmitting(demo);
  // A rolling update: `helm upgrade --wait` with the same values, the new chart and image tag.
  stack = await stackUp({
    cluster: cluster.state,
    dir: stackDir,
    namespace: NS,
    chart: join(work, "kubeplus-0.2.0.tgz"),
    report: (line) => transcript.push(line),
    env: process.env,
  });
  // A little longer: the old pods' endpoints leave kube-proxy's rules after helm saw the new ones Ready.
  await sleep(5_000);
  const { admitted, refused } = await admissions.stop();
  const counted = `admissions during the rollout: ${String(admitted)} admitted, ${String(refused.length)} refused`;
  transcript.push(`\n${counted}\n`);
  process.stdout.write(`\n[kubeplus-chart] ${counted}\n`);
  expect(refused.join("\n"), "admissions refused during the rollout").toBe("");
  expect(admitted).toBeGreaterThan(10);
  // Every service pod is replaced (the old ones finish terminating); NATS, whose configuration did not change, kept
  // running (nothing had to reconnect).
  const kept = (pods: ServicePod[]): string[] =>
    pods.filter((p) => oldPods.some((o) => o.uid === p.uid)).map((p) => p.service);
  const newPods = await waitFor(
    async () => {
      const now = await servicePods();
      return kept(now).every((service) => service === "nats") ? now : undefined;
    },
    { what: "the old KubePlus pods to be gone", timeoutMs: 60_000 },
  );
  expect(kept(newPods)).toEqual(["nats"]);
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
  expect(images.split(" ").sort()).toEqual(
    STACK_SERVICES.map((s) => `localhost/kubeplus/${s}:0.2.0`).sort(),
  );
  expect(newPods.every((p) => p.ready)).toBe(true);
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
  // What a failed walkthrough left (the demo deletes its tenants itself): tenants and compositions go while the helmer
  // still runs, since it holds their finalizers; then the release, the provider and the namespace.
  for (const resource of [
    "wordpressmysqlservices.platformapi.kubeplus",
    "resourcecompositions.workflows.kubeplus",
  ]) {
    const deleted = await cluster.kubectl([
      "delete",
      resource,
      "--all",
      "-n",
      NS,
      "--ignore-not-found",
      "--timeout=120s",
    ]);
    // Gone already after a walkthrough that passed (its composition took the kind with it).
    if (deleted.code !== 0 && !deleted.stderr.includes("doesn't have a resource type"))
      process.stderr.write(`[kubeplus-chart] teardown: deleting ${resource}: ${deleted.stderr}\n`);
  }
  await stackDown(cluster.state, stackDir, () => undefined);
  await run(process.execPath, [
    join(repoRoot, "cli", "dist", "provider-kubeconfig", "main.js"),
    "delete",
    NS,
    "-k",
    cluster.state.kubeconfig,
  ]).catch(() => undefined);
  await cluster.kubectl(["delete", "namespace", NS, "--wait=false"]);
}, 300_000);

describe("the KubePlus chart", () => {
  it("installs with the provider kubeconfig: the four services, the console and NATS run as Ready pods on the real node, from the images built here", async () => {
    const pods = await servicePods();
    // Four services (crd-hook twice), the console and NATS, all Ready on a real node, from the images `up` loaded.
    expect(pods.map((p) => p.service).sort()).toEqual(
      [...STACK_SERVICES, "crd-hook", "nats"].sort(),
    );
    for (const p of pods) {
      expect(p.ready, p.name).toBe(true);
      expect(cluster.state.realNodes, p.name).toContain(p.node);
      if (p.service !== "nats") expect(p.image).toBe(`localhost/kubeplus/${p.service}:0.1.0`);
    }
    // The services act as the provider; NATS (no API access) has the namespace's default account.
    const accounts = await cluster.kubectl([
      "get",
      "pods",
      "-n",
      NS,
      "-l",
      "app.kubernetes.io/name notin (nats,console)",
      "-o",
      "jsonpath={.items[*].spec.serviceAccountName}",
    ]);
    expect(new Set(accounts.stdout.split(" "))).toEqual(new Set(["kubeplus-saas-provider"]));
    // The console holds no rights: an account of its own that RBAC lets do nothing, and no token in its pod.
    const consolePod = await cluster.kubectl([
      "get",
      "pods",
      "-n",
      NS,
      "-l",
      "app.kubernetes.io/name=console",
      "-o",
      "jsonpath={.items[0].spec.serviceAccountName} {.items[0].spec.automountServiceAccountToken} {.items[0].spec.volumes[*].name}",
    ]);
    expect(consolePod.stdout).toBe("kubeplus-console false tmp kube-root-ca");
    for (const [verb, resource] of [
      ["get", "pods"],
      ["list", "secrets"],
      ["create", "resourcecompositions.workflows.kubeplus"],
      ["list", "wordpressmysqlservices.platformapi.kubeplus"],
    ] as const) {
      const can = await cluster.kubectl([
        "auth",
        "can-i",
        verb,
        resource,
        "-n",
        NS,
        "--as",
        `system:serviceaccount:${NS}:kubeplus-console`,
      ]);
      expect(can.stdout.trim(), `kubeplus-console: ${verb} ${resource}`).toBe("no");
    }
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
    // The helmer that leads is the pod (no local process acts for it): the Lease names the pod.
    const leases = await cluster.kubectl([
      "get",
      "lease",
      "kubeplus-helmer",
      "-n",
      NS,
      "-o",
      "jsonpath={.spec.holderIdentity}",
    ]);
    const helmerPod = pods.find((p) => p.service === "helmer")?.name;
    expect(leases.stdout).toBe(helmerPod);
    const webhook = await cluster.kubectl([
      "get",
      "validatingwebhookconfiguration",
      "kubeplus-crd-hook",
      "-o",
      "jsonpath={.metadata.labels.app\\.kubernetes\\.io/managed-by}/{.webhooks[0].clientConfig.service.namespace}/{.webhooks[0].clientConfig.service.name}",
    ]);
    // Owned by the release (so helm uninstall removes it); the apiserver calls crd-hook's Service.
    expect(webhook.stdout).toBe(`Helm/${NS}/crd-hook`);
    // The chart's own checks, as a user runs them after an install: crd-hook refuses a bad composition through its
    // Service, NATS answers certified clients only.
    const tested = await helm(
      stack,
      cluster.state,
      [
        "test",
        "kubeplus",
        "-n",
        NS,
        "--kubeconfig",
        stack.providerKubeconfig,
        "--logs",
        "--timeout",
        "180s",
      ],
      process.env.PATH,
    );
    expect(tested).toMatch(/PASS: crd-hook refused the composition/);
    expect(tested).toMatch(/PASS: NATS answers certified clients only/);
    // What the README shows.
    transcript.push(
      `$ kubectl get pods -n ${NS} -o wide\n${await stackPods(cluster.state, stack)}`,
    );
    process.stdout.write(
      `\n$ kubectl get pods -n ${NS} -o wide\n${await stackPods(cluster.state, stack)}`,
    );
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
    }).catch(async (err: unknown) => {
      const logs = await Promise.all(
        ["helmer", "crd-hook"].map(
          async (s) =>
            `--- ${s} (end) ---\n${(await cluster.kubectl(["logs", "-n", NS, "-l", `app.kubernetes.io/name=${s}`, "--tail=25", "--prefix"])).stdout}`,
        ),
      );
      throw new Error(
        `${String(err)}\n--- transcript (end) ---\n${transcript.join("").slice(-4000)}\n${logs.join("\n")}`,
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
