import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  instanceNamespace,
  ManifestDir,
  platformNamespace,
  serveFiles,
  sharedChart,
  startHelmer,
  TestCluster,
  waitFor,
  waitForCrd,
  type RunningService,
  tearDownPlatform,
  type TestCondition,
  compositionManifest,
  chartYaml,
  makeArchive,
} from "@kubeplus/testing";

const cluster = new TestCluster();
const manifests = new ManifestDir("helmer-inst");
let kp = "";
let helmer: RunningService;
let charts: Awaited<ReturnType<typeof serveFiles>>;

/** A chart that breaks tenant isolation only when an instance asks it to (a hostPath volume of the node's logs). */
const hostLogsChart = (): Promise<Buffer> =>
  makeArchive([
    { name: "host-logs/Chart.yaml", content: chartYaml("host-logs") },
    { name: "host-logs/values.yaml", content: "greeting: hi\nhostLogs: false\n" },
    {
      name: "host-logs/templates/cm.yaml",
      content:
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  greeting: {{ .Values.greeting | quote }}\n",
    },
    {
      name: "host-logs/templates/logs.yaml",
      content: [
        "{{- if .Values.hostLogs }}",
        "apiVersion: v1",
        "kind: Pod",
        "metadata:",
        "  name: logs",
        "spec:",
        "  containers: [{ name: tail, image: busybox }]",
        "  volumes: [{ name: logs, hostPath: { path: /var/log } }]",
        "{{- end }}",
        "",
      ].join("\n"),
    },
  ]);

type Condition = TestCondition;
interface Hs {
  metadata: { generation: number; uid: string; finalizers?: string[] };
  status?: {
    helmrelease?: string;
    observedGeneration?: number;
    conditions?: Condition[];
    chart?: { ref: string };
    inventory?: { kind: string; name: string }[];
  };
}

const manifest = (name: string, object: object): string => manifests.write(name, object);
const instance = (name: string, greeting: string) =>
  manifest(name, {
    apiVersion: "platformapi.kubeplus/v1alpha1",
    kind: "HelloWorldService",
    metadata: { name, namespace: kp },
    spec: { greeting, replicas: 2 },
  });

/** An instance's namespace, as the helmer reports it (`<instance>-<hash of its UID>`). */
const nsOf = (plural: string, name: string): Promise<string> =>
  instanceNamespace(cluster, { plural, namespace: kp, name });

async function get(name: string): Promise<Hs | undefined> {
  const r = await cluster.kubectl(["get", "helloworldservice", name, "-n", kp, "-o", "json"]);
  return r.code === 0 ? (JSON.parse(r.stdout) as Hs) : undefined;
}
const readyOf = (hs: Hs | undefined): Condition | undefined =>
  hs?.status?.conditions?.find((c) => c.type === "Ready");
const diagnose = async (name: string): Promise<string> =>
  `${JSON.stringify(await get(name), null, 2)}\n${helmer
    .logs()
    .slice(-15)
    .map((l) => JSON.stringify(l))
    .join("\n")}\n${await cluster.diagnose(name)}`;

async function waitReady(name: string, generation: number): Promise<Hs> {
  return waitFor(
    async () => {
      const hs = await get(name);
      return readyOf(hs)?.status === "True" && hs?.status?.observedGeneration === generation
        ? hs
        : undefined;
    },
    {
      what: `${name} to be Ready at generation ${generation}`,
      timeoutMs: 90_000,
      diagnose: () => diagnose(name),
    },
  );
}

const helm = (args: string[]) =>
  promisify(execFile)(cluster.state.tools.helm, [
    ...args,
    "--kubeconfig",
    cluster.state.kubeconfig,
  ]);

beforeAll(async () => {
  kp = await platformNamespace(cluster, "kpi");
  charts = await serveFiles({
    "/hello-world-chart-0.0.3.tgz": sharedChart("hello-world-chart-0.0.3.tgz"),
    "/host-logs-0.1.0.tgz": await hostLogsChart(),
  });
  helmer = await startHelmer(cluster, kp, join(manifests.dir, "cache"));
  const rc = compositionManifest(
    {
      name: "hello-world-service-composition",
      namespace: kp,
      kind: "HelloWorldService",
      plural: "helloworldservices",
      chartURL: `${charts.url}/hello-world-chart-0.0.3.tgz`,
      chartName: "hello-world-chart",
    },
    {
      respolicy: {
        spec: {
          policy: {
            podconfig: {
              requests: { cpu: "100m", memory: "128Mi" },
              limits: { cpu: "200m", memory: "256Mi" },
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
      isolation: { ingressFromNamespaces: ["ingress-nginx"] },
    },
  );
  expect((await cluster.kubectl(["create", "-f", manifest("rc", rc)])).stderr).toBe("");
  await waitForCrd(cluster, "helloworldservices.platformapi.kubeplus");
}, 120_000);

afterAll(async () => {
  await tearDownPlatform(cluster, {
    namespace: kp,
    generatedCrds: ["helloworldservices.platformapi.kubeplus", "hostlogsapps.platformapi.kubeplus"],
    services: [helmer],
  });
  await charts.close();
});

describe("instances become isolated Helm releases", () => {
  it("creates two tenants, each in its own fenced namespace with a real release, Ready when its pods are", async () => {
    for (const name of ["hs1", "hs2"])
      expect(
        (await cluster.kubectl(["create", "-f", instance(name, `hello ${name}`)])).stderr,
      ).toBe("");
    const hs1 = await waitReady("hs1", 1);
    await waitReady("hs2", 1);
    // Its namespace is named after it and its UID, never after its name alone.
    const hs1Ns = await nsOf("helloworldservices", "hs1");
    expect(hs1Ns).toMatch(/^hs1-[0-9a-f]{8}$/);
    expect(hs1.status?.helmrelease).toBe(`${hs1Ns}:helloworldservice-hs1`);
    expect(hs1.status?.chart?.ref).toBe("hello-world-chart-0.0.3");
    expect(hs1.status?.inventory?.map((o) => `${o.kind}/${o.name}`)).toEqual([
      "Service/hello-world-service-helloworldservice-hs1",
      "Deployment/hello-world-deployment-helloworldservice-hs1",
    ]);
    expect(hs1.metadata.finalizers).toContain("workflows.kubeplus/finalizer");

    const ns = await cluster.core.readNamespace({ name: hs1Ns });
    expect(ns.metadata?.labels).toMatchObject({
      "kubeplus.dev/instance-uid": hs1.metadata.uid,
      "app.kubernetes.io/managed-by": "kubeplus",
      "kubeplus.dev/kind": "HelloWorldService",
      "kubeplus.dev/instance": "hs1",
      "kubeplus.dev/instance-namespace": kp,
      "pod-security.kubernetes.io/enforce": "baseline",
    });
    const policies = await cluster.kubectl(["get", "networkpolicies", "-n", hs1Ns, "-o", "name"]);
    expect(policies.stdout.trim().split("\n").sort()).toEqual([
      "networkpolicy.networking.k8s.io/kubeplus-egress",
      "networkpolicy.networking.k8s.io/restrict-cross-ns-traffic",
    ]);
    const ingress = await cluster.kubectl([
      "get",
      "networkpolicy",
      "restrict-cross-ns-traffic",
      "-n",
      hs1Ns,
      "-o",
      "jsonpath={.spec.ingress[0].from}",
    ]);
    expect(JSON.parse(ingress.stdout)).toEqual([
      { podSelector: {} },
      { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "ingress-nginx" } } },
    ]);
    const quota = await cluster.kubectl([
      "get",
      "resourcequota",
      "kubeplus-quota",
      "-n",
      hs1Ns,
      "-o",
      "jsonpath={.status.hard}",
    ]);
    expect(JSON.parse(quota.stdout)).toEqual({
      "limits.cpu": "2",
      "limits.memory": "2Gi",
      "requests.cpu": "1",
      "requests.memory": "1Gi",
    });

    const { stdout } = await helm(["list", "-n", hs1Ns, "-o", "json"]);
    expect(JSON.parse(stdout)).toMatchObject([
      { name: "helloworldservice-hs1", status: "deployed", chart: "hello-world-chart-0.0.3" },
    ]);
    const pods = await cluster.core.listNamespacedPod({ namespace: hs1Ns });
    expect(pods.items).toHaveLength(2);
    for (const pod of pods.items) {
      expect(pod.status?.phase).toBe("Running");
      expect(pod.spec?.containers[0]?.resources).toEqual({
        requests: { cpu: "100m", memory: "128Mi" },
        limits: { cpu: "200m", memory: "256Mi" },
      });
    }
    const table = await cluster.kubectl(["get", "helloworldservices", "-n", kp]);
    expect(table.stdout).toMatch(/^NAME\s+READY\s+REASON\s+CHART\s+AGE\n/);
    expect(table.stdout).toMatch(/hs1\s+True\s+Ready\s+hello-world-chart-0\.0\.3/);
  });

  it("turns a spec change made with kubectl apply into helm upgrade with the new values", async () => {
    const applied = await cluster.kubectl(["apply", "-f", instance("hs2", "bonjour")]);
    expect(applied.code).toBe(0);
    await waitReady("hs2", 2);
    const hs2Ns = await nsOf("helloworldservices", "hs2");
    const env = await cluster.kubectl([
      "get",
      "deployment",
      "hello-world-deployment-helloworldservice-hs2",
      "-n",
      hs2Ns,
      "-o",
      "jsonpath={.spec.template.spec.containers[0].env[0].value}",
    ]);
    expect(env.stdout).toBe("bonjour");
    const { stdout } = await helm(["list", "-n", hs2Ns, "-o", "json"]);
    // One install and one upgrade: no release revision is spent on a reconcile that had nothing to change.
    expect(JSON.parse(stdout)).toMatchObject([{ revision: "2", status: "deployed" }]);
  });

  it("leaves nothing in its working directory (helm's caches go to the helmer's own folders)", () => {
    expect(existsSync(join(process.cwd(), ".kube"))).toBe(false);
  });

  it("deletes an instance cleanly: release uninstalled, namespace gone, then the instance", async () => {
    const hs1Ns = await nsOf("helloworldservices", "hs1");
    await cluster.kubectl(["delete", "helloworldservice", "hs1", "-n", kp, "--wait=false"]);
    await waitFor(async () => (await get("hs1")) === undefined, {
      what: "hs1 to be deleted",
      timeoutMs: 90_000,
      diagnose: () => diagnose("hs1"),
    });
    const ns = await cluster.core.readNamespace({ name: hs1Ns }).then(
      () => "exists",
      () => "gone",
    );
    expect(ns).toBe("gone");
    const { stdout } = await helm(["list", "-A", "-o", "json"]);
    expect((JSON.parse(stdout) as { name: string }[]).map((r) => r.name)).not.toContain(
      "helloworldservice-hs1",
    );
    expect(readyOf(await get("hs2"))?.status).toBe("True");
  });
});

describe("isolation is checked on what helm renders for each instance, before anything is applied", () => {
  interface App {
    status?: {
      conditions?: (Condition & { observedGeneration?: number })[];
      observedGeneration?: number;
    };
  }
  const app = async (name: string): Promise<App | undefined> => {
    const r = await cluster.kubectl(["get", "hostlogsapp", name, "-n", kp, "-o", "json"]);
    return r.code === 0 ? (JSON.parse(r.stdout) as App) : undefined;
  };
  const condition = (a: App | undefined, type: string) =>
    a?.status?.conditions?.find((c) => c.type === type);
  const waitApp = (name: string, what: string, done: (a: App | undefined) => boolean) =>
    waitFor(
      async () => {
        const a = await app(name);
        return done(a) ? a : undefined;
      },
      {
        what,
        timeoutMs: 90_000,
        diagnose: async () =>
          `${JSON.stringify(await app(name), null, 2)}\n${await cluster.diagnose(name)}`,
      },
    );
  const setHostLogs = (name: string, on: boolean) =>
    cluster.kubectl([
      "patch",
      "hostlogsapp",
      name,
      "-n",
      kp,
      "--type=merge",
      "-p",
      JSON.stringify({ spec: { hostLogs: on, greeting: on ? "logs" : "calm" } }),
    ]);
  const refusedAt = (generation: number) => (a: App | undefined) =>
    condition(a, "Ready")?.reason === "IsolationRefused" &&
    condition(a, "Ready")?.observedGeneration === generation;

  it("refuses an instance whose values would mount a host path, then installs it once they do not", async () => {
    const rc = compositionManifest({
      name: "host-logs",
      namespace: kp,
      kind: "HostLogsApp",
      plural: "hostlogsapps",
      chartURL: `${charts.url}/host-logs-0.1.0.tgz`,
      chartName: "host-logs",
    });
    expect((await cluster.kubectl(["create", "-f", manifest("rc-logs", rc)])).stderr).toBe("");
    await waitForCrd(cluster, "hostlogsapps.platformapi.kubeplus");
    const body = {
      apiVersion: "platformapi.kubeplus/v1alpha1",
      kind: "HostLogsApp",
      metadata: { name: "logs1", namespace: kp },
      spec: { hostLogs: true },
    };
    expect((await cluster.kubectl(["create", "-f", manifest("logs1", body)])).stderr).toBe("");

    const refused = await waitApp("logs1", "logs1 to be refused", refusedAt(1));
    const logsNs = await nsOf("hostlogsapps", "logs1");
    expect(condition(refused, "Stalled")?.status).toBe("True");
    expect(condition(refused, "Ready")?.message).toContain("would break tenant isolation");
    expect(condition(refused, "Ready")?.message).toContain(
      "Pod/logs spec.volumes[0].hostPath: mounts the node path '/var/log' (hostPath)",
    );
    expect(condition(refused, "Ready")?.message).toContain("spec.isolation.allow: [hostPath]");
    // Helm stopped at its post-render step: no release in any status (helm 4 lists them all), and none of the
    // chart's objects.
    const releases = await helm(["list", "-n", logsNs, "-o", "json"]);
    expect(JSON.parse(releases.stdout)).toEqual([]);
    const made = await cluster.kubectl(["get", "configmap,pods", "-n", logsNs, "-o", "name"]);
    expect(made.stdout.split("\n")).not.toContain("configmap/settings");
    expect(made.stdout).not.toContain("pod/logs");

    expect((await setHostLogs("logs1", false)).code).toBe(0);
    await waitApp(
      "logs1",
      "logs1 Ready without the host path",
      (a) => condition(a, "Ready")?.status === "True" && a?.status?.observedGeneration === 2,
    );
    const greeting = await cluster.kubectl([
      "get",
      "configmap",
      "settings",
      "-n",
      logsNs,
      "-o",
      "jsonpath={.data.greeting}",
    ]);
    expect(greeting.stdout).toBe("calm");

    // An update that would break isolation is refused too, and the release keeps serving the last good values.
    expect((await setHostLogs("logs1", true)).code).toBe(0);
    const again = await waitApp("logs1", "the update to be refused", refusedAt(3));
    expect(condition(again, "Stalled")?.status).toBe("True");
    const history = await helm(["history", "hostlogsapp-logs1", "-n", logsNs, "-o", "json"]);
    expect((JSON.parse(history.stdout) as { status: string }[]).map((r) => r.status)).toEqual([
      "deployed",
    ]);
    const still = await cluster.kubectl(["get", "pods", "-n", logsNs, "-o", "name"]);
    expect(still.stdout).not.toContain("pod/logs");
    expect(
      (
        await cluster.kubectl([
          "delete",
          "hostlogsapp",
          "logs1",
          "-n",
          kp,
          "--wait=true",
          "--timeout=90s",
        ])
      ).code,
    ).toBe(0);
  });
});
