// Attacks on instance namespaces: a consumer naming its instance after a namespace an administrator uses or already
// has, and two consumers racing for one name. The helmer runs as the provider, without crd-hook (its admission checks
// are a convenience: the helmer must hold the line when the webhook is down or when two creates race past it).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AccessNames,
  ClusterIO,
  deleteIdentity,
  grantConsumerKinds,
  issueKubeconfig,
  setUpConsumer,
  setUpProvider,
  type IdentityRef,
} from "@kubeplus/access";
import {
  compositionManifest,
  conditionOf,
  ManifestDir,
  platformNamespace,
  ROOMY_POLICY,
  serveFiles,
  sharedChart,
  startHelmer,
  tearDownPlatform,
  TestCluster,
  waitFor,
  waitForCrd,
  type RunningService,
  type TestCondition,
} from "@kubeplus/testing";

const cluster = new TestCluster();
const manifests = new ManifestDir("attacks-namespaces");
const io = new ClusterIO(cluster.kc, "test");
const PLURAL = "helloworldservices";
const CRD = `${PLURAL}.platformapi.kubeplus`;
const suffix = Date.now().toString(36);
/** Two consumers, each in a namespace of its own. */
const teams = { a: `team-a-${suffix}`, b: `team-b-${suffix}` } as const;
const consumers: Record<keyof typeof teams, IdentityRef> = {
  a: { namespace: teams.a, serviceAccount: "alice" },
  b: { namespace: teams.b, serviceAccount: "bob" },
};
const files: Partial<Record<keyof typeof teams, string>> = {};
let kp = "";
let provider: IdentityRef;
let helmer: RunningService;
let charts: Awaited<ReturnType<typeof serveFiles>>;

async function kubeconfigFor(ref: IdentityRef): Promise<string> {
  const issued = await issueKubeconfig(io, ref, {
    clusterName: ref.serviceAccount,
    durationSeconds: 3600,
  });
  const path = join(manifests.dir, `${ref.namespace}-${ref.serviceAccount}.json`);
  writeFileSync(path, JSON.stringify(issued.config), { mode: 0o600 });
  return path;
}

function instance(team: keyof typeof teams, name: string): Record<string, unknown> {
  const ref = consumers[team];
  return {
    apiVersion: "platformapi.kubeplus/v1alpha1",
    kind: "HelloWorldService",
    metadata: {
      name,
      namespace: ref.namespace,
      annotations: {
        accountidentity: `system:serviceaccount:${ref.namespace}:${ref.serviceAccount}`,
      },
    },
    spec: { greeting: `hello from ${team}`, replicas: 1 },
  };
}

async function create(team: keyof typeof teams, name: string): Promise<void> {
  const r = await cluster.kubectl(
    ["create", "-f", manifests.write(`${team}-${name}`, instance(team, name))],
    files[team],
  );
  expect(r.stderr).toBe("");
}

async function readyOf(team: keyof typeof teams, name: string): Promise<TestCondition | undefined> {
  const got = await cluster.kubectl(["get", PLURAL, name, "-n", teams[team], "-o", "json"]);
  return got.code === 0 ? conditionOf(JSON.parse(got.stdout) as never) : undefined;
}

async function settled(team: keyof typeof teams, name: string): Promise<TestCondition> {
  return waitFor(
    async () => {
      const ready = await readyOf(team, name);
      return ready && ["Ready", "NamespaceConflict"].includes(ready.reason) ? ready : undefined;
    },
    { what: `${teams[team]}/${name} to be Ready or refused`, timeoutMs: 90_000 },
  );
}

async function gone(team: keyof typeof teams, name: string): Promise<void> {
  await cluster.kubectl(
    ["delete", PLURAL, name, "-n", teams[team], "--wait=true", "--timeout=60s"],
    files[team],
  );
  await waitFor(async () => (await readyOf(team, name)) === undefined, {
    what: `${teams[team]}/${name} to be deleted`,
    timeoutMs: 60_000,
  });
}

const namespaceLabels = async (name: string): Promise<Record<string, string> | undefined> => {
  const got = await cluster.kubectl(["get", "namespace", name, "-o", "json"]);
  return got.code === 0
    ? (JSON.parse(got.stdout) as { metadata: { labels?: Record<string, string> } }).metadata.labels
    : undefined;
};

beforeAll(async () => {
  kp = await platformNamespace(cluster, "atn");
  provider = { namespace: kp, serviceAccount: AccessNames.Provider };
  await setUpProvider(io, provider, []);
  const providerFile = await kubeconfigFor(provider);
  for (const team of ["a", "b"] as const) {
    await setUpConsumer(io, consumers[team]);
    files[team] = await kubeconfigFor(consumers[team]);
  }
  charts = await serveFiles({
    "/hello-world-chart-0.0.3.tgz": sharedChart("hello-world-chart-0.0.3.tgz"),
  });
  helmer = await startHelmer(cluster, kp, join(manifests.dir, "cache"), {
    KUBECONFIG: providerFile,
  });
  const rc = compositionManifest(
    {
      name: "hello",
      namespace: kp,
      kind: "HelloWorldService",
      plural: PLURAL,
      chartURL: `${charts.url}/hello-world-chart-0.0.3.tgz`,
      chartName: "hello-world-chart",
    },
    ROOMY_POLICY,
  );
  const created = await cluster.kubectl(["create", "-f", manifests.write("rc", rc)], providerFile);
  expect(created.stderr).toBe("");
  await waitForCrd(cluster, CRD);
  await grantConsumerKinds(io, [PLURAL], "platformapi.kubeplus");
}, 240_000);

afterAll(async () => {
  for (const team of ["a", "b"] as const)
    await cluster.kubectl([
      "delete",
      PLURAL,
      "--all",
      "-n",
      teams[team],
      "--wait=true",
      "--timeout=60s",
    ]);
  await tearDownPlatform(cluster, { namespace: kp, generatedCrds: [CRD], services: [helmer] });
  for (const team of ["a", "b"] as const) {
    await deleteIdentity(io, consumers[team]);
    await cluster.core.deleteNamespace({ name: teams[team] }).catch(() => undefined);
  }
  await cluster.core.deleteNamespace({ name: `taken-${suffix}` }).catch(() => undefined);
  await deleteIdentity(io, provider);
  await charts.close();
}, 240_000);

describe("attacks on instance namespaces", () => {
  it("an instance named after a namespace administrators use (monitoring) is refused and the namespace is not created", async () => {
    expect(await namespaceLabels("monitoring")).toBeUndefined();
    await create("a", "monitoring");
    const ready = await settled("a", "monitoring");
    expect(ready.reason).toBe("NamespaceConflict");
    expect(ready.message).toContain("namespace monitoring is reserved");
    expect(await namespaceLabels("monitoring")).toBeUndefined();
    await gone("a", "monitoring");
  });

  it("an instance named after an existing namespace KubePlus did not create is refused; its deletion leaves that namespace and its Secrets alone", async () => {
    const taken = `taken-${suffix}`;
    await cluster.kubectl(["create", "namespace", taken]);
    await cluster.kubectl([
      "create",
      "secret",
      "generic",
      "admin-secret",
      "-n",
      taken,
      "--from-literal=k=v",
    ]);
    await create("a", taken);
    const ready = await settled("a", taken);
    expect(ready.reason).toBe("NamespaceConflict");
    expect(ready.message).toContain("was not created by KubePlus");
    // Not taken over: no KubePlus label, no binding that would let the consumer read its Secrets.
    expect((await namespaceLabels(taken))?.["app.kubernetes.io/managed-by"]).toBeUndefined();
    const read = await cluster.kubectl(["get", "secret", "admin-secret", "-n", taken], files.a);
    expect(read.stderr).toMatch(/forbidden/);
    await gone("a", taken);
    expect(await namespaceLabels(taken)).toBeDefined();
    expect((await cluster.kubectl(["get", "secret", "admin-secret", "-n", taken])).code).toBe(0);
  });

  it("two consumers racing for one instance name: exactly one wins, and deleting the other never touches the winner", async () => {
    const name = `dup-${suffix}`;
    await Promise.all([create("a", name), create("b", name)]);
    const [a, b] = await Promise.all([settled("a", name), settled("b", name)]);
    const reasons = [a.reason, b.reason].sort();
    expect(reasons).toEqual(["NamespaceConflict", "Ready"]);
    const loser = a.reason === "NamespaceConflict" ? "a" : "b";
    const winner = loser === "a" ? "b" : "a";
    const labels = await namespaceLabels(name);
    expect(labels?.["kubeplus.dev/instance-namespace"]).toBe(teams[winner]);
    expect((loser === "a" ? a : b).message).toContain(
      `belongs to HelloWorldService ${teams[winner]}/${name}`,
    );
    await gone(loser, name);
    // The winner is untouched: its namespace, its release and its Ready condition.
    expect(await namespaceLabels(name)).toBeDefined();
    const deploys = await cluster.kubectl(["get", "deployments", "-n", name, "-o", "name"]);
    expect(deploys.stdout).not.toBe("");
    expect((await readyOf(winner, name))?.reason).toBe("Ready");
    await gone(winner, name);
  });
});
