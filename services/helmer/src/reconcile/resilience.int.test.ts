import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { NatsConnection } from "@nats-io/nats-core";
import { instanceNamespaceName } from "@kubeplus/api";
import {
  chartYaml,
  compositionManifest,
  conditionOf,
  connectNatsAs,
  freePort,
  makeArchive,
  ManifestDir,
  platformNamespace,
  type RunningService,
  serveFiles,
  startCrdHook,
  startHelmer,
  tearDownPlatform,
  TestCluster,
  type TestCondition,
  waitFor,
} from "@kubeplus/testing";

/**
 * The helmer killed (SIGKILL, helm with it) in the middle of an install, an upgrade and a delete; drift corrected
 * by the periodic resync; a composition deleted with and without cascade. The chart's hooks can hold helm in
 * `pending-install` / `pending-upgrade` for as long as a test needs: a hook Pod that never completes.
 */
const cluster = new TestCluster();
const manifests = new ManifestDir("helmer-resilience");
let kp = "";
let helmer: RunningService | undefined;
let hook: RunningService | undefined;
let charts: Awaited<ReturnType<typeof serveFiles>>;
let nc: NatsConnection;
const deleted: string[] = [];

interface Gated {
  metadata: { generation: number; finalizers?: string[] };
  status?: { conditions?: TestCondition[]; observedGeneration?: number };
}

const GATE = `{{- if or .Values.gateInstall .Values.gateUpgrade }}
apiVersion: v1
kind: Pod
metadata:
  name: gate-{{ .Release.Revision }}
  annotations:
    "helm.sh/hook": {{ if .Values.gateInstall }}post-install{{ else }}post-upgrade{{ end }}
spec:
  restartPolicy: Never
  containers:
    - name: gate
      image: registry.k8s.io/pause:3.10
{{- end }}
`;
const DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
spec:
  replicas: 1
  selector:
    matchLabels: { app: gated }
  template:
    metadata:
      labels: { app: gated }
    spec:
      containers:
        - name: app
          image: registry.k8s.io/pause:3.10
          env:
            - name: GREETING
              value: {{ .Values.greeting | quote }}
`;

const startTheHelmer = async (env: Record<string, string> = {}): Promise<RunningService> => {
  helmer = await startHelmer(cluster, kp, join(manifests.dir, "cache"), {
    RESYNC_SECONDS: "2",
    ...env,
  });
  return helmer;
};
/**
 * Each instance's namespace (`<instance>-<hash of its UID>`: the helmer's rule, since a release can be pending before
 * the helmer reports a status), remembered so that what is left in it can be checked after the instance is gone.
 */
const namespaces = new Map<string, string>();
const nsOf = async (name: string): Promise<string | undefined> => {
  const known = namespaces.get(name);
  if (known) return known;
  const r = await cluster.kubectl([
    "get",
    "gatedapp",
    name,
    "-n",
    kp,
    "-o",
    "jsonpath={.metadata.uid}",
  ]);
  if (r.code !== 0 || r.stdout.trim() === "") return undefined;
  const ns = instanceNamespaceName({ name, uid: r.stdout.trim() });
  namespaces.set(name, ns);
  return ns;
};
const helmHistory = async (name: string): Promise<{ revision: number; status: string }[]> => {
  const ns = await nsOf(name);
  if (!ns) return [];
  const r = await promisify(execFile)(cluster.state.tools.helm, [
    "history",
    `gatedapp-${name}`,
    "-n",
    ns,
    "-o",
    "json",
    "--kubeconfig",
    cluster.state.kubeconfig,
  ]).catch(() => ({ stdout: "[]" }));
  return JSON.parse(r.stdout) as { revision: number; status: string }[];
};
async function get(name: string): Promise<Gated | undefined> {
  const r = await cluster.kubectl(["get", "gatedapp", name, "-n", kp, "-o", "json"]);
  return r.code === 0 ? (JSON.parse(r.stdout) as Gated) : undefined;
}
const diagnose = async (name: string): Promise<string> =>
  `${JSON.stringify(await get(name), null, 2)}\nhelm history: ${JSON.stringify(await helmHistory(name))}\n${(
    helmer?.logs() ?? []
  )
    .slice(-15)
    .map((l) => JSON.stringify(l))
    .join("\n")}`;
const waitReady = (name: string): Promise<Gated> =>
  waitFor(
    async () => {
      const g = await get(name);
      return conditionOf(g)?.status === "True" &&
        g?.status?.observedGeneration === g?.metadata.generation &&
        (await nsOf(name))
        ? g
        : undefined;
    },
    { what: `${name} Ready`, timeoutMs: 90_000, diagnose: () => diagnose(name) },
  );
const waitPending = (name: string, status: string): Promise<unknown> =>
  waitFor(async () => (await helmHistory(name)).at(-1)?.status === status, {
    what: `release of ${name} to be ${status}`,
    timeoutMs: 60_000,
    diagnose: () => diagnose(name),
  });
const patchSpec = async (name: string, spec: Record<string, unknown>): Promise<void> => {
  const r = await cluster.kubectl([
    "patch",
    "gatedapp",
    name,
    "-n",
    kp,
    "--type=merge",
    "-p",
    JSON.stringify({ spec }),
  ]);
  expect(r.stderr).toBe("");
};
const create = async (name: string, spec: Record<string, unknown> = {}): Promise<void> => {
  const object = {
    apiVersion: "platformapi.kubeplus/v1alpha1",
    kind: "GatedApp",
    metadata: { name, namespace: kp },
    spec: { greeting: "hi", ...spec },
  };
  expect((await cluster.kubectl(["create", "-f", manifests.write(name, object)])).stderr).toBe("");
};

beforeAll(async () => {
  kp = await platformNamespace(cluster, "kpr");
  charts = await serveFiles({
    "/gatedapp-0.1.0.tgz": await makeArchive([
      { name: "gatedapp/Chart.yaml", content: chartYaml("gatedapp") },
      {
        name: "gatedapp/values.yaml",
        content: "greeting: hi\ngateInstall: false\ngateUpgrade: false\n",
      },
      { name: "gatedapp/templates/deployment.yaml", content: DEPLOYMENT },
      { name: "gatedapp/templates/gate.yaml", content: GATE },
    ]),
  });
  nc = await connectNatsAs(cluster.state, "provider");
  const sub = nc.subscribe("kubeplus.v1.evt.instance.deleted");
  void (async () => {
    for await (const m of sub) deleted.push(m.json<{ name: string }>().name);
  })();
  await startTheHelmer();
  hook = await startCrdHook(cluster, kp, await freePort());
  const rc = compositionManifest(
    {
      name: "gated",
      namespace: kp,
      kind: "GatedApp",
      plural: "gatedapps",
      chartURL: `${charts.url}/gatedapp-0.1.0.tgz`,
      chartName: "gatedapp",
    },
    {
      respolicy: {
        spec: {
          policy: {
            podconfig: {
              requests: { cpu: "50m", memory: "32Mi" },
              limits: { cpu: "100m", memory: "64Mi" },
            },
            quota: {
              "requests.cpu": "1",
              "requests.memory": "1Gi",
              "limits.cpu": "2",
              "limits.memory": "2Gi",
            },
          },
        },
      },
    },
  );
  const created = await cluster.kubectl(["create", "-f", manifests.write("rc", rc)]);
  expect(created.stderr).toBe("");
  await waitFor(
    async () =>
      (
        await cluster.kubectl([
          "wait",
          "--for=condition=Established",
          "crd/gatedapps.platformapi.kubeplus",
          "--timeout=2s",
        ])
      ).code === 0,
    { what: "the GatedApp CRD", timeoutMs: 60_000 },
  );
}, 120_000);

afterAll(async () => {
  await tearDownPlatform(cluster, {
    namespace: kp,
    generatedCrds: ["gatedapps.platformapi.kubeplus"],
    services: [helmer, hook],
    webhooks: true,
  });
  await nc.close();
  await charts.close();
});

describe("the helmer survives being killed, and drift", () => {
  it("recovers a release left pending-install by a helmer killed mid-install", async () => {
    await create("g1", { gateInstall: true });
    await waitPending("g1", "pending-install");
    await helmer?.crash();
    await patchSpec("g1", { gateInstall: false });
    await startTheHelmer();
    await waitReady("g1");
    const history = await helmHistory("g1");
    expect(history.at(-1)?.status).toBe("deployed");
    expect(history.filter((h) => h.status.startsWith("pending"))).toEqual([]);
    const g1 = await get("g1");
    expect(conditionOf(g1, "Stalled")?.status).toBe("False");
  }, 180_000);

  it("recovers a release left pending-upgrade, and applies the spec the user wants now", async () => {
    await patchSpec("g1", { gateUpgrade: true });
    await waitPending("g1", "pending-upgrade");
    await helmer?.crash();
    await patchSpec("g1", { gateUpgrade: false, greeting: "after the crash" });
    await startTheHelmer();
    await waitReady("g1");
    const history = await helmHistory("g1");
    // Helm keeps the interrupted revision in its history; what matters is that a deployed one follows it.
    expect(history.at(-1)?.status).toBe("deployed");
    const interrupted = history.filter((h) => h.status === "pending-upgrade");
    expect(interrupted.map((h) => h.revision)).toEqual([2]);
    expect(history.at(-1)?.revision).toBeGreaterThan(2);
    const env = await cluster.kubectl([
      "get",
      "deployment",
      "app",
      "-n",
      namespaces.get("g1") ?? "",
      "-o",
      "jsonpath={.spec.template.spec.containers[0].env[0].value}",
    ]);
    expect(env.stdout).toBe("after the crash");
  }, 180_000);

  it("finishes a deletion that a crash interrupted: no release, no namespace, no instance", async () => {
    const r = await cluster.kubectl(["delete", "gatedapp", "g1", "-n", kp, "--wait=false"]);
    expect(r.code).toBe(0);
    await waitFor(async () => conditionOf(await get("g1"))?.reason === "Deleting", {
      what: "g1 to be deleting",
      timeoutMs: 30_000,
      intervalMs: 20,
    });
    await helmer?.crash();
    await startTheHelmer();
    await waitFor(async () => (await get("g1")) === undefined, {
      what: "g1 to be gone",
      timeoutMs: 90_000,
      diagnose: () => diagnose("g1"),
    });
    expect(await helmHistory("g1")).toEqual([]);
    expect(namespaces.get("g1")).toBeDefined();
    const ns = await cluster.kubectl([
      "get",
      "namespace",
      namespaces.get("g1") ?? "",
      "--ignore-not-found",
      "-o",
      "name",
    ]);
    expect(ns.stdout).toBe("");
    expect(deleted).toContain("g1");
  }, 180_000);

  it("puts back a NetworkPolicy and a ResourceQuota someone deleted", async () => {
    await create("g2");
    await waitReady("g2");
    for (const object of [
      "networkpolicy/restrict-cross-ns-traffic",
      "resourcequota/kubeplus-quota",
    ])
      expect(
        (await cluster.kubectl(["delete", object, "-n", namespaces.get("g2") ?? ""])).code,
      ).toBe(0);
    await waitFor(
      async () => {
        const r = await cluster.kubectl([
          "get",
          "networkpolicy/restrict-cross-ns-traffic",
          "resourcequota/kubeplus-quota",
          "-n",
          namespaces.get("g2") ?? "",
          "-o",
          "name",
        ]);
        return r.code === 0 && r.stdout.trim().split("\n").length === 2;
      },
      { what: "the isolation objects to come back", timeoutMs: 30_000 },
    );
  }, 120_000);
});

describe("without NATS", () => {
  it("starts and converges an instance through its watches alone", async () => {
    await helmer?.crash();
    await startTheHelmer({ NATS_URL: `nats://127.0.0.1:${await freePort()}` });
    await create("g4");
    await waitReady("g4");
    expect(helmer?.logs().some((l) => l.msg === "connected to NATS")).toBe(false);
    await helmer?.stop();
    await startTheHelmer();
    await helmer?.waitForLog((l) => l.msg === "connected to NATS");
    const r = await cluster.kubectl(["delete", "gatedapp", "g4", "-n", kp, "--timeout=60s"]);
    expect(r.code).toBe(0);
  }, 120_000);
});

describe("deleting a composition", () => {
  it("is refused while instances exist, naming them; with the cascade annotation it removes everything", async () => {
    await create("g3");
    await waitReady("g3");
    const refused = await cluster.kubectl(["delete", "resourcecomposition", "gated", "-n", kp]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/still has 2 GatedApp instance\(s\)/);
    expect(refused.stderr).toContain(`${kp}/g2`);
    expect(refused.stderr).toContain("kubeplus.dev/cascade-delete=true");
    expect((await get("g2"))?.metadata.generation).toBeGreaterThan(0);

    const annotate = await cluster.kubectl([
      "annotate",
      "resourcecomposition",
      "gated",
      "-n",
      kp,
      "kubeplus.dev/cascade-delete=true",
    ]);
    expect(annotate.code).toBe(0);
    const gone = await cluster.kubectl([
      "delete",
      "resourcecomposition",
      "gated",
      "-n",
      kp,
      "--timeout=120s",
    ]);
    expect(gone.stderr).toBe("");
    for (const name of ["g2", "g3"]) {
      const ns = await cluster.kubectl([
        "get",
        "namespace",
        namespaces.get(name) ?? "",
        "--ignore-not-found",
        "-o",
        "name",
      ]);
      expect(ns.stdout).toBe("");
      expect(await helmHistory(name)).toEqual([]);
    }
    const crd = await cluster.kubectl([
      "get",
      "crd",
      "gatedapps.platformapi.kubeplus",
      "--ignore-not-found",
      "-o",
      "name",
    ]);
    expect(crd.stdout).toBe("");
    expect(deleted).toEqual(expect.arrayContaining(["g2", "g3"]));
  }, 180_000);
});
