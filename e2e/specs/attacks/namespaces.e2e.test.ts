// Attacks on instance namespaces: a consumer naming its instance after a namespace an administrator uses, already
// has or will create later, and two consumers creating instances of one name at once. An instance's namespace is
// named `<instance>-<hash of its UID>` (@kubeplus/api instanceNamespaceName): no consumer chooses it. The helmer runs
// as the provider, without crd-hook (its admission checks are a convenience: the helmer must hold the line when the
// webhook is down or when two creates race past it).
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
let providerFile = "";
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

interface InstanceJson {
  metadata: { uid: string };
  status?: { helmrelease?: string; namespace?: string; conditions?: TestCondition[] };
}

async function instanceJson(
  team: keyof typeof teams,
  name: string,
): Promise<InstanceJson | undefined> {
  const got = await cluster.kubectl(["get", PLURAL, name, "-n", teams[team], "-o", "json"]);
  return got.code === 0 ? (JSON.parse(got.stdout) as InstanceJson) : undefined;
}

/** The namespace the helmer reports for the instance (`status.helmrelease` is `<namespace>:<release>`). */
async function namespaceOf(team: keyof typeof teams, name: string): Promise<string> {
  const got = await instanceJson(team, name);
  return got?.status?.helmrelease?.split(":")[0] ?? "";
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
  providerFile = await kubeconfigFor(provider);
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
  it("an instance named after a namespace an administrator creates later never holds that name: the administrator's namespace stays theirs", async () => {
    // Not on any reserved list: nothing but the naming rule keeps it free.
    const name = `payments-${suffix}`;
    await create("a", name);
    const ready = await settled("a", name);
    expect(ready.reason).toBe("Ready");
    const got = await instanceJson("a", name);
    const ns = await namespaceOf("a", name);
    expect(ns).not.toBe(name);
    expect(got?.status?.namespace).toBe(ns);
    expect((await namespaceLabels(ns))?.["kubeplus.dev/instance-uid"]).toBe(got?.metadata.uid);
    expect(await namespaceLabels(name)).toBeUndefined();
    // The administrator creates it later: it is free, gets no KubePlus label, and the consumer cannot read it.
    expect((await cluster.kubectl(["create", "namespace", name])).code).toBe(0);
    await cluster.kubectl([
      "create",
      "secret",
      "generic",
      "admin-secret",
      "-n",
      name,
      "--from-literal=k=v",
    ]);
    expect((await namespaceLabels(name))?.["app.kubernetes.io/managed-by"]).toBeUndefined();
    const read = await cluster.kubectl(["get", "secret", "admin-secret", "-n", name], files.a);
    expect(read.stderr).toMatch(/forbidden/);
    await gone("a", name);
    expect((await cluster.kubectl(["get", "secret", "admin-secret", "-n", name])).code).toBe(0);
    await cluster.core.deleteNamespace({ name }).catch(() => undefined);
  });

  it("an instance named after a namespace administrators use (monitoring) gets a namespace of its own; monitoring is neither created nor labelled", async () => {
    expect(await namespaceLabels("monitoring")).toBeUndefined();
    await create("a", "monitoring");
    const ready = await settled("a", "monitoring");
    expect(ready.reason).toBe("Ready");
    expect(await namespaceOf("a", "monitoring")).toMatch(/^monitoring-[0-9a-f]{8}$/);
    expect(await namespaceLabels("monitoring")).toBeUndefined();
    await gone("a", "monitoring");
    expect(await namespaceLabels("monitoring")).toBeUndefined();
  });

  it("an instance named after an existing namespace KubePlus did not create does not touch it; its deletion leaves that namespace and its Secrets alone", async () => {
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
    expect(ready.reason).toBe("Ready");
    expect(await namespaceOf("a", taken)).not.toBe(taken);
    // Not taken over: no KubePlus label, no binding that would let the consumer read its Secrets.
    expect((await namespaceLabels(taken))?.["app.kubernetes.io/managed-by"]).toBeUndefined();
    const read = await cluster.kubectl(["get", "secret", "admin-secret", "-n", taken], files.a);
    expect(read.stderr).toMatch(/forbidden/);
    await gone("a", taken);
    expect(await namespaceLabels(taken)).toBeDefined();
    expect((await cluster.kubectl(["get", "secret", "admin-secret", "-n", taken])).code).toBe(0);
  });

  it("two consumers creating instances of one name at once each get a namespace of their own, and deleting one never touches the other's", async () => {
    const name = `dup-${suffix}`;
    await Promise.all([create("a", name), create("b", name)]);
    const [a, b] = await Promise.all([settled("a", name), settled("b", name)]);
    expect([a.reason, b.reason]).toEqual(["Ready", "Ready"]);
    const [nsA, nsB] = await Promise.all([namespaceOf("a", name), namespaceOf("b", name)]);
    expect(nsA).not.toBe(nsB);
    expect((await namespaceLabels(nsA))?.["kubeplus.dev/instance-namespace"]).toBe(teams.a);
    expect((await namespaceLabels(nsB))?.["kubeplus.dev/instance-namespace"]).toBe(teams.b);
    await gone("a", name);
    // The other is untouched: its namespace, its release and its Ready condition.
    expect(await namespaceLabels(nsB)).toBeDefined();
    const deploys = await cluster.kubectl(["get", "deployments", "-n", nsB, "-o", "name"]);
    expect(deploys.stdout).not.toBe("");
    expect((await readyOf("b", name))?.reason).toBe("Ready");
    await gone("b", name);
  });

  it("an instance whose namespace was made under the earlier rule (named after it, carrying its UID) keeps it", async () => {
    const name = `legacy-${suffix}`;
    // The earlier helmer made the namespace: stop this one, create the instance, make its namespace as it did.
    await helmer.stop();
    await create("a", name);
    const uid = (await instanceJson("a", name))?.metadata.uid ?? "";
    expect(uid).not.toBe("");
    const ns = {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: {
        name,
        labels: {
          "app.kubernetes.io/managed-by": "kubeplus",
          managedby: "kubeplus",
          "kubeplus.dev/kind": "HelloWorldService",
          "kubeplus.dev/instance": name,
          "kubeplus.dev/instance-namespace": teams.a,
          "kubeplus.dev/instance-uid": uid,
          "pod-security.kubernetes.io/enforce": "baseline",
        },
      },
    };
    expect((await cluster.kubectl(["create", "-f", manifests.write("legacy-ns", ns)])).code).toBe(
      0,
    );
    helmer = await startHelmer(cluster, kp, join(manifests.dir, "cache"), {
      KUBECONFIG: providerFile,
    });
    expect((await settled("a", name)).reason).toBe("Ready");
    expect(await namespaceOf("a", name)).toBe(name);
    const deploys = await cluster.kubectl(["get", "deployments", "-n", name, "-o", "name"]);
    expect(deploys.stdout).not.toBe("");
    await gone("a", name);
    await waitFor(async () => (await namespaceLabels(name)) === undefined, {
      what: `namespace ${name} to be deleted with its instance`,
      timeoutMs: 60_000,
    });
  });
});
