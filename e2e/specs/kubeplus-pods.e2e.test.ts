// KubePlus as real pods (issue 18): the images `make images` builds, loaded into the real node's containerd at `up`,
// run by the chart installed with `helm install` as the provider, on the real node, in a namespace that enforces the
// restricted Pod Security profile. The services are pods here, not local processes: crd-hook answers the apiserver
// through its Service (the apiserver on the host calls the Service's endpoint, a pod address routed to the node).
// Self-contained: its own namespace, provider, release and webhook configurations (named per file), all removed in
// afterAll with bounded waits. The helmer, in its pod, fetches a chart from a chart server that is itself a pod (a
// Service of this namespace), registers the composition and installs a tenant; a killed helmer pod is replaced and
// the next one applies the tenant's update.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { imageReference, repoRoot } from "@kubeplus/dev";
import {
  compositionManifest,
  exampleChart,
  ManifestDir,
  pluginKubectl,
  sharedChartPath,
  TestCluster,
  testWebhookName,
  waitFor,
} from "@kubeplus/testing";

const run = promisify(execFile);
const cluster = new TestCluster();
const manifests = new ManifestDir("kubeplus-pods");
const work = mkdtempSync(join(tmpdir(), "kubeplus-pods-"));
const RUN = Date.now().toString(36).slice(-5);
const NS = `kpp-${RUN}`;
const RELEASE = "kubeplus";
const WEBHOOKS = testWebhookName(NS);
/** The generated kind's CRD crd-hook's admission of the bad composition may leave (it is refused: normally none). */
const CRD = "badcharts.platformapi.kubeplus";
const SERVICES = ["crd-hook", "helmer", "kubeconfig-generator", "metrics-collector"];
/** The example chart the tenant runs, served by a pod of NS (busybox httpd) through the Service `charts`. */
const CHART = "hello-world-chart-0.0.3.tgz";
const CHART_URL = `http://charts.${NS}.svc.cluster.local/${CHART}`;
const KIND = "HelloWorldService";
const PLURAL = "helloworldservices";
const TENANT_CRD = `${PLURAL}.platformapi.kubeplus`;
const CRD_OF_COMPOSITIONS = "resourcecompositions.workflows.kubeplus";
/** The metered tenant: tenant-echo with its CPU burner, on the real node, served by the same chart server. */
const ECHO_CHART = "tenant-echo-0.1.0.tgz";
const ECHO_KIND = "PodMeteredEcho";
const ECHO_PLURAL = "podmeteredechoes";
const ECHO_CRD = `${ECHO_PLURAL}.platformapi.kubeplus`;
const REAL_NODE_LABEL = "kubeplus.dev/real-node";
let provider = "";
/** What the README quotes: the pods as kubectl shows them. */
const shown: string[] = [];

/** helm as the given kubeconfig, with a HOME and caches of this file's own. */
async function helm(args: string[], kubeconfig: string): Promise<{ code: number; out: string }> {
  const env = {
    PATH: process.env.PATH ?? "",
    HOME: work,
    HELM_CACHE_HOME: join(work, "helm-cache"),
    HELM_CONFIG_HOME: join(work, "helm-config"),
    HELM_DATA_HOME: join(work, "helm-data"),
  };
  try {
    const { stdout, stderr } = await run(
      cluster.state.tools.helm,
      [...args, "--kubeconfig", kubeconfig],
      { env, maxBuffer: 16 * 1024 * 1024 },
    );
    return { code: 0, out: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? 1, out: `${e.stdout ?? ""}${e.stderr ?? ""}` };
  }
}

interface PodView {
  metadata: { name: string; labels?: Record<string, string> };
  spec: { nodeName?: string };
  status?: {
    phase?: string;
    conditions?: { type: string; status: string }[];
    containerStatuses?: { ready: boolean; restartCount: number; containerID?: string }[];
  };
}

async function pods(): Promise<PodView[]> {
  const got = await cluster.kubectl(["get", "pods", "-n", NS, "-o", "json"]);
  if (got.code !== 0) return [];
  return (JSON.parse(got.stdout) as { items: PodView[] }).items;
}

const ready = (p: PodView): boolean =>
  p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;

const component = (p: PodView): string =>
  p.metadata.labels?.["app.kubernetes.io/component"] ??
  p.metadata.labels?.["app.kubernetes.io/name"] ??
  "";

interface TenantStatus {
  namespace: string;
  observedGeneration?: number;
  conditions?: { type: string; status: string; message?: string }[];
}

/** Waits until tenant hs1 is Ready for the given generation; returns its status. */
async function tenantReady(generation: number): Promise<TenantStatus> {
  return waitFor(
    async () => {
      const got = await cluster.kubectl(["get", TENANT_CRD, "hs1", "-n", NS, "-o", "json"]);
      if (got.code !== 0) return undefined;
      const status = (JSON.parse(got.stdout) as { status?: TenantStatus }).status;
      const isReady = status?.conditions?.some((c) => c.type === "Ready" && c.status === "True");
      return isReady && status?.observedGeneration === generation ? status : undefined;
    },
    {
      what: `tenant hs1 Ready at generation ${String(generation)}`,
      timeoutMs: 120_000,
      diagnose: helmerLogs,
    },
  );
}

/** What a restart or an uninstall of KubePlus must leave alone: the tenant's generation, namespace and Helm revision. */
async function tenantState(): Promise<{ generation: number; namespace: string; revision: string }> {
  const got = await cluster.kubectl(["get", TENANT_CRD, "hs1", "-n", NS, "-o", "json"]);
  expect(got.code, got.stderr).toBe(0);
  const view = JSON.parse(got.stdout) as {
    metadata: { generation: number };
    status?: { namespace?: string };
  };
  const namespace = view.status?.namespace ?? "";
  const history = await helm(
    ["history", "helloworldservice-hs1", "-n", namespace, "-o", "json"],
    cluster.state.kubeconfig,
  );
  const revisions = JSON.parse(history.code === 0 ? history.out : "[]") as { revision: number }[];
  return {
    generation: view.metadata.generation,
    namespace,
    revision: String(revisions.at(-1)?.revision ?? "none"),
  };
}

/** SIGKILL to a container's process, through the real node's containerd (what an OOM kill or a crash does). */
async function killContainer(containerId: string): Promise<void> {
  const node = cluster.state.realNodes[0] ?? "";
  const socket = join(cluster.state.runDir, "nodes", node, "containerd", "containerd.sock");
  const id = containerId.replace("containerd://", "");
  await run(cluster.state.tools.ctr, [
    "--address",
    socket,
    "--namespace",
    "k8s.io",
    "task",
    "kill",
    "--signal",
    "SIGKILL",
    id,
  ]);
}

/** A JSON merge patch of one object of NS (as the admin unless a kubeconfig is given). */
function mergePatch(
  resource: string,
  name: string,
  patch: object,
  kubeconfig?: string,
): ReturnType<typeof cluster.kubectl> {
  const args = ["patch", resource, name, "-n", NS, "--type=merge", "-p", JSON.stringify(patch)];
  return kubeconfig ? cluster.kubectl(args, kubeconfig) : cluster.kubectl(args);
}

async function helmerLogs(): Promise<string> {
  const logs = await cluster.kubectl(["logs", "-n", NS, "deploy/helmer", "--tail=20"]);
  return logs.stdout + logs.stderr;
}

/** busybox httpd serving the ConfigMap `charts` as a pod of NS that meets the restricted profile, and its Service. */
function chartServerManifest(): Record<string, unknown> {
  const labels = { app: "charts" };
  return {
    apiVersion: "v1",
    kind: "List",
    items: [
      {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "charts", namespace: NS, labels },
        spec: {
          nodeSelector: { [REAL_NODE_LABEL]: "true" },
          tolerations: [{ key: REAL_NODE_LABEL, operator: "Exists", effect: "NoSchedule" }],
          securityContext: {
            runAsNonRoot: true,
            runAsUser: 65532,
            seccompProfile: { type: "RuntimeDefault" },
          },
          containers: [
            {
              name: "httpd",
              image: imageReference("busybox"),
              command: ["/bin/busybox", "httpd", "-f", "-p", "8080", "-h", "/charts"],
              securityContext: {
                allowPrivilegeEscalation: false,
                capabilities: { drop: ["ALL"] },
              },
              ports: [{ containerPort: 8080 }],
              volumeMounts: [{ name: "charts", mountPath: "/charts" }],
            },
          ],
          volumes: [{ name: "charts", configMap: { name: "charts" } }],
        },
      },
      {
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: "charts", namespace: NS },
        spec: { selector: labels, ports: [{ port: 80, targetPort: 8080 }] },
      },
    ],
  };
}

/** The tenant-echo example chart, packaged into this file's folder (the chart server serves it). */
function echoChartFile(): string {
  const file = join(work, ECHO_CHART);
  writeFileSync(file, exampleChart(cluster.state.tools.helm, "tenant-echo"));
  return file;
}

interface Usage {
  collectedAt: string;
  pods: number;
  notRunningPods: number;
  cpu: { millicores: number | null };
  memory: { bytes: number | null };
  perPod: { name: string; node: string }[];
}

/** What `kubectl metrics` says of an instance: the collector's answer, asked over NATS as the provider. */
async function usage(
  kubectl: ReturnType<typeof pluginKubectl>,
  name: string,
): Promise<Usage | undefined> {
  const got = await kubectl(["metrics", ECHO_KIND, name, NS, "-o", "json"]);
  return got.code === 0 ? (JSON.parse(got.stdout) as Usage) : undefined;
}

beforeAll(async () => {
  expect(
    cluster.state.realNodes.length,
    "the control plane has no real node (up --real-nodes)",
  ).toBeGreaterThan(0);
  // The provider identity in a fresh namespace, as `make up` creates it (stack.ts), but for a KubePlus in the cluster:
  // no --allow-webhook-url, the webhooks call crd-hook's Service.
  // provider-kubeconfig labels the namespace baseline; the chart's pods are made for restricted.
  await run(
    process.execPath,
    [
      join(repoRoot, "cli", "dist", "provider-kubeconfig", "main.js"),
      "create",
      NS,
      "-k",
      cluster.state.kubeconfig,
      "-f",
      "kubeplus-saas-provider.json",
    ],
    { cwd: work },
  );
  provider = join(work, "kubeplus-saas-provider.json");
  const labelled = await cluster.kubectl([
    "label",
    "--overwrite",
    "namespace",
    NS,
    "pod-security.kubernetes.io/enforce=restricted",
    "pod-security.kubernetes.io/enforce-version=latest",
  ]);
  expect(labelled.code, labelled.stderr).toBe(0);
  const installed = await helm(
    [
      "install",
      RELEASE,
      join(repoRoot, "deploy", "charts", "kubeplus"),
      "-n",
      NS,
      "--set",
      "image.registry=localhost/kubeplus",
      "--set",
      `nats.image=${imageReference("nats")}`,
      "--set",
      `crdHook.webhookConfigurationName=${WEBHOOKS}`,
      "--set",
      "crdHook.replicas=1",
      "--set-json",
      `nodeSelector={"${REAL_NODE_LABEL}":"true"}`,
      "--set-json",
      `tolerations=[{"key":"${REAL_NODE_LABEL}","operator":"Exists","effect":"NoSchedule"}]`,
      // The chart server is a Service of the cluster: the fetcher refuses such addresses unless allowed.
      "--set-json",
      'helmer.chartFetchAllowCidrs=["198.18.0.0/15"]',
      // A metering pass every 10 s (the chart's default is 30 s).
      "--set",
      "metricsCollector.intervalSeconds=10",
      "--timeout",
      "240s",
    ],
    provider,
  );
  expect(installed.code, installed.out).toBe(0);
}, 300_000);

afterAll(async () => {
  // Bounded, and each step runs whatever the one before did: the tenant (while the helmer still runs, it holds the
  // instance's finalizer), the composition, the release (its webhook configurations go with it), the CRD, the
  // provider and the namespace; the webhook configurations once more by name, should helm have failed.
  const step = async (what: string, f: () => Promise<unknown>): Promise<void> => {
    try {
      await f();
    } catch (err) {
      process.stderr.write(`[kubeplus-pods] teardown: ${what} failed: ${String(err)}\n`);
    }
  };
  const kubectl = (args: string[]): Promise<unknown> => cluster.kubectl(args);
  // The instances of every kind this file made, each while the helmer still holds its finalizer.
  for (const [what, resource] of [
    ["metered tenants", ECHO_CRD],
    ["tenants", TENANT_CRD],
    ["instances", CRD],
  ] as const)
    await step(what, () =>
      kubectl([
        "delete",
        resource,
        "--all",
        "-n",
        NS,
        "--wait=true",
        "--timeout=60s",
        "--ignore-not-found",
      ]),
    );
  await step("compositions", () =>
    kubectl(["delete", "resourcecompositions", "--all", "-n", NS, "--wait=true", "--timeout=60s"]),
  );
  await step("helm uninstall", () =>
    helm(["uninstall", RELEASE, "-n", NS, "--wait", "--timeout", "60s"], cluster.state.kubeconfig),
  );
  await step("webhook configurations", () =>
    kubectl([
      "delete",
      "validatingwebhookconfiguration,mutatingwebhookconfiguration",
      WEBHOOKS,
      "--ignore-not-found",
    ]),
  );
  await step("CRDs", () =>
    kubectl(["delete", "crd", CRD, TENANT_CRD, ECHO_CRD, "--ignore-not-found", "--timeout=60s"]),
  );
  await step("provider", () =>
    run(
      process.execPath,
      [
        join(repoRoot, "cli", "dist", "provider-kubeconfig", "main.js"),
        "delete",
        NS,
        "-k",
        cluster.state.kubeconfig,
        "-f",
        "kubeplus-saas-provider.json",
      ],
      { cwd: work, timeout: 60_000 },
    ),
  );
  await step("namespace", () =>
    kubectl(["delete", "namespace", NS, "--wait=true", "--timeout=90s", "--ignore-not-found"]),
  );
  rmSync(work, { recursive: true, force: true });
  if (shown.length > 0) process.stdout.write(`\nKubePlus as pods:\n${shown.join("\n")}\n`);
}, 300_000);

describe("KubePlus installed from its chart, as pods on a real node", () => {
  it("runs the four services and NATS from the built images, Ready through their probes, on the real node", async () => {
    const all = await waitFor(
      async () => {
        const now = await pods();
        const names = new Set(now.map(component));
        const complete = [...SERVICES, "nats"].every((s) => names.has(s));
        return complete && now.every(ready) ? now : undefined;
      },
      {
        what: `every KubePlus pod in ${NS} Ready`,
        timeoutMs: 240_000,
        diagnose: async () =>
          (await cluster.kubectl(["get", "pods,events", "-n", NS, "-o", "wide"])).stdout,
      },
    );
    for (const p of all) {
      expect(p.spec.nodeName, p.metadata.name).toBe(cluster.state.realNodes[0]);
      expect(p.status?.phase, p.metadata.name).toBe("Running");
    }
    const images = await cluster.kubectl([
      "get",
      "pods",
      "-n",
      NS,
      "-o",
      "jsonpath={range .items[*]}{.spec.containers[0].image}{'\\n'}{end}",
    ]);
    const used = images.stdout.split("\n").filter(Boolean);
    for (const s of SERVICES)
      expect(used.some((i) => i.startsWith(`localhost/kubeplus/${s}:`))).toBe(true);
    expect(used).toContain(imageReference("nats"));
    const wide = await cluster.kubectl(["get", "pods", "-n", NS, "-o", "wide"]);
    shown.push(`$ kubectl get pods -n ${NS} -o wide`, wide.stdout.trimEnd());
  });

  it("holds the restricted Pod Security profile: the namespace enforces it and a privileged pod is refused", async () => {
    const label = await cluster.kubectl([
      "get",
      "namespace",
      NS,
      "-o",
      "jsonpath={.metadata.labels.pod-security\\.kubernetes\\.io/enforce}",
    ]);
    expect(label.stdout).toBe("restricted");
    // The enforcement is live: the same namespace refuses a pod the profile forbids.
    const bad = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "privileged", namespace: NS },
      spec: {
        containers: [
          { name: "c", image: imageReference("busybox"), securityContext: { privileged: true } },
        ],
      },
    };
    const refused = await cluster.kubectl([
      "create",
      "--dry-run=server",
      "-f",
      manifests.write("privileged", bad),
    ]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/violates PodSecurity "restricted:latest"/);
  });

  it("crd-hook answers the apiserver through its Service: a composition with a bad chartURL is refused with its message", async () => {
    const webhook = await cluster.kubectl([
      "get",
      "validatingwebhookconfiguration",
      WEBHOOKS,
      "-o",
      "jsonpath={.webhooks[0].clientConfig.service.namespace}/{.webhooks[0].clientConfig.service.name}",
    ]);
    expect(webhook.stdout).toBe(`${NS}/crd-hook`);
    const rc = compositionManifest({
      name: "bad-chart",
      namespace: NS,
      kind: "BadChart",
      plural: "badcharts",
      chartURL: "ftp://example.invalid/chart.tgz",
      chartName: "bad",
    });
    const created = await waitFor(
      async () => {
        const r = await cluster.kubectl(["create", "-f", manifests.write("bad", rc)], provider);
        // Until crd-hook has filled its configuration, the apiserver admits without it: retry until it answers.
        if (r.code === 0) {
          await cluster.kubectl(["delete", "-f", manifests.write("bad", rc), "--wait=false"]);
          return undefined;
        }
        return r.stderr.includes("denied the request") ? r : undefined;
      },
      { what: "crd-hook to refuse a bad chartURL", timeoutMs: 60_000 },
    );
    expect(created.stderr).toMatch(/admission webhook "platform-as-code\.crd-binding\.v1" denied/);
    expect(created.stderr).toMatch(/chartURL/);
  });

  it("the helmer, in its pod, fetches a chart over the pod network, registers its API and installs a tenant", async () => {
    const chartServer = await cluster.kubectl([
      "create",
      "configmap",
      "charts",
      "-n",
      NS,
      `--from-file=${sharedChartPath(CHART)}`,
      `--from-file=${echoChartFile()}`,
    ]);
    expect(chartServer.code, chartServer.stderr).toBe(0);
    const served = await cluster.kubectl([
      "apply",
      "-f",
      manifests.write("chart-server", chartServerManifest()),
    ]);
    expect(served.code, served.stderr).toBe(0);
    const up = await cluster.kubectl([
      "wait",
      "-n",
      NS,
      "pod/charts",
      "--for=condition=Ready",
      "--timeout=90s",
    ]);
    expect(up.code, up.stderr).toBe(0);
    const rc = compositionManifest({
      name: "hello-world-service-composition",
      namespace: NS,
      kind: KIND,
      plural: PLURAL,
      chartURL: CHART_URL,
      chartName: "hello-world-chart",
    });
    // kube-proxy on the node programs the new Service within a few seconds; until then crd-hook's download of the
    // chart finds no route (ENETUNREACH) and refuses the composition, saying so.
    await waitFor(
      async () => {
        const r = await cluster.kubectl(["apply", "-f", manifests.write("rc", rc)], provider);
        if (r.code === 0) return true;
        expect(r.stderr).toMatch(/could not download the chart/);
        return undefined;
      },
      { what: "crd-hook to admit the composition", timeoutMs: 60_000, diagnose: helmerLogs },
    );
    await waitFor(
      async () => (await cluster.kubectl(["get", "crd", TENANT_CRD])).code === 0 || undefined,
      {
        what: `the helmer pod to register ${TENANT_CRD}`,
        timeoutMs: 90_000,
        diagnose: helmerLogs,
      },
    );
    const tenant = {
      apiVersion: "platformapi.kubeplus/v1alpha1",
      kind: KIND,
      metadata: { name: "hs1", namespace: NS },
      spec: { greeting: "Hello from the helmer's pod" },
    };
    const created = await cluster.kubectl(
      ["apply", "-f", manifests.write("hs1", tenant)],
      provider,
    );
    expect(created.code, created.stderr).toBe(0);
    const status = await tenantReady(1);
    const deployments = await cluster.kubectl([
      "get",
      "deployments",
      "-n",
      status.namespace,
      "-o",
      "jsonpath={.items[*].metadata.name}",
    ]);
    expect(deployments.stdout).toBe("hello-world-deployment-helloworldservice-hs1");
  });

  it("a killed helmer pod is replaced, and the new one applies the tenant's update", async () => {
    const before = (await pods()).find((p) => component(p) === "helmer")?.metadata.name;
    expect(before).toBeTruthy();
    const killed = await cluster.kubectl(["delete", "pod", "-n", NS, before ?? "", "--wait=false"]);
    expect(killed.code, killed.stderr).toBe(0);
    await waitFor(
      async () => {
        const [only, ...more] = (await pods()).filter((p) => component(p) === "helmer");
        return only && more.length === 0 && only.metadata.name !== before && ready(only)
          ? true
          : undefined;
      },
      { what: "a new helmer pod Ready", timeoutMs: 120_000, diagnose: helmerLogs },
    );
    const patched = await mergePatch(
      TENANT_CRD,
      "hs1",
      { spec: { greeting: "Hello again" } },
      provider,
    );
    expect(patched.code, patched.stderr).toBe(0);
    const status = await tenantReady(2);
    const values = await helm(
      ["get", "values", "helloworldservice-hs1", "-n", status.namespace, "-o", "json"],
      cluster.state.kubeconfig,
    );
    expect(values.code, values.out).toBe(0);
    expect(JSON.parse(values.out)).toMatchObject({ greeting: "Hello again" });
  });

  it("the kubeconfig-generator, in its pod, keeps the consumer's kubeconfig, whose token is the consumer", async () => {
    const secret = await waitFor(
      async () => {
        const got = await cluster.kubectl([
          "get",
          "secret",
          "kubeplus-saas-consumer-kubeconfig",
          "-n",
          NS,
          "-o",
          "jsonpath={.data.kubeplus-saas-consumer\\.json}",
        ]);
        return got.code === 0 && got.stdout !== "" ? got.stdout : undefined;
      },
      { what: "Secret kubeplus-saas-consumer-kubeconfig", timeoutMs: 60_000 },
    );
    const kubeconfig = JSON.parse(Buffer.from(secret, "base64").toString("utf8")) as {
      clusters: { cluster: { server: string } }[];
    };
    // Written for pods (the in-cluster Service address); from the host the same token goes to the apiserver's URL.
    expect(kubeconfig.clusters[0]?.cluster.server).toMatch(/^https:\/\/198\.19\./);
    const file = manifests.write("consumer-kubeconfig", kubeconfig);
    const whoami = await cluster.kubectl(
      [
        "auth",
        "whoami",
        "--server",
        cluster.state.apiServerUrl,
        "-o",
        "jsonpath={.status.userInfo.username}",
      ],
      file,
    );
    expect(whoami.code, whoami.stderr).toBe(0);
    expect(whoami.stdout).toBe(`system:serviceaccount:${NS}:kubeplus-saas-consumer`);
  });

  it("the metrics-collector, in its pod, meters a tenant on the real node from that node's kubelet", async () => {
    const rc = compositionManifest({
      name: "pod-metered-echo",
      namespace: NS,
      kind: ECHO_KIND,
      plural: ECHO_PLURAL,
      chartURL: `http://charts.${NS}.svc.cluster.local/${ECHO_CHART}`,
      chartName: "tenant-echo",
    });
    const registered = await cluster.kubectl(
      ["apply", "-f", manifests.write("echo-rc", rc)],
      provider,
    );
    expect(registered.code, registered.stderr).toBe(0);
    await waitFor(
      async () => (await cluster.kubectl(["get", "crd", ECHO_CRD])).code === 0 || undefined,
      { what: `the helmer pod to register ${ECHO_CRD}`, timeoutMs: 90_000, diagnose: helmerLogs },
    );
    // A burner at its 200m limit beside tenant-echo: usage only a real kubelet (cAdvisor) can report, on a node kwok
    // does not emulate.
    const tenant = {
      apiVersion: "platformapi.kubeplus/v1alpha1",
      kind: ECHO_KIND,
      metadata: { name: "metered", namespace: NS },
      spec: {
        nodeSelector: { [REAL_NODE_LABEL]: "true" },
        tolerations: [{ key: REAL_NODE_LABEL, operator: "Exists" }],
        burner: { enabled: true, workers: 1, memoryMiB: 32 },
      },
    };
    const created = await cluster.kubectl(
      ["apply", "-f", manifests.write("metered", tenant)],
      provider,
    );
    expect(created.code, created.stderr).toBe(0);
    const pluginDir = join(work, "plugins");
    await run(process.execPath, [
      join(repoRoot, "cli", "dist", "install-plugins", "main.js"),
      pluginDir,
    ]);
    const kubectl = pluginKubectl(cluster.state, pluginDir, work);
    let last: Usage | undefined;
    const measured = await waitFor(
      async () => {
        last = (await usage(kubectl, "metered")) ?? last;
        const cpu = last?.cpu.millicores ?? 0;
        return last?.pods === 1 && last.notRunningPods === 0 && cpu >= 50 ? last : undefined;
      },
      {
        what: "the collector's pod to report the burner's CPU",
        timeoutMs: 150_000,
        diagnose: async () =>
          `last answer: ${JSON.stringify(last)}\n${(await cluster.kubectl(["logs", "-n", NS, "deploy/metrics-collector", "--tail=15"])).stdout}`,
      },
    );
    expect(measured.perPod[0]?.node).toBe(cluster.state.realNodes[0]);
    // The burner holds 32 MiB beside tenant-echo's own: more than that is resident.
    expect(measured.memory.bytes ?? 0).toBeGreaterThan(32 * 1024 * 1024);
    shown.push(
      `$ kubectl metrics ${ECHO_KIND} metered ${NS}   (-o json, measured by the collector's pod)`,
      `pods ${String(measured.pods)}, CPU ${String(measured.cpu.millicores)}m, memory ${String(Math.round((measured.memory.bytes ?? 0) / 1024 / 1024))} MiB`,
    );
    // Removed while the helmer runs (it holds the finalizers): the tenant, then its API.
    for (const [resource, name] of [
      [ECHO_CRD, "metered"],
      ["resourcecomposition", "pod-metered-echo"],
    ] as const) {
      const removed = await cluster.kubectl(
        ["delete", resource, name, "-n", NS, "--timeout=120s"],
        provider,
      );
      expect(removed.code, removed.stderr).toBe(0);
    }
  });

  it("each service's container process killed (SIGKILL through the node's containerd) restarts, and no tenant is touched", async () => {
    const before = await tenantState();
    for (const service of SERVICES) {
      const pod = (await pods()).find((p) => component(p) === service);
      const status = pod?.status?.containerStatuses?.[0];
      expect(status?.containerID, `${service}'s container`).toBeTruthy();
      await killContainer(status?.containerID ?? "");
      await waitFor(
        async () => {
          const now = (await pods()).find((p) => p.metadata.name === pod?.metadata.name);
          const count = now?.status?.containerStatuses?.[0]?.restartCount ?? 0;
          return now && count > (status?.restartCount ?? 0) && ready(now) ? true : undefined;
        },
        { what: `${service} restarted and Ready after its process was killed`, timeoutMs: 120_000 },
      );
    }
    // Still admitting (crd-hook answers again), and the tenant as it was: same generation, same Helm revision.
    const tenant = await tenantReady(before.generation);
    expect(await tenantState()).toEqual(before);
    expect(tenant.namespace).toBe(before.namespace);
  });

  it("each service's pod deleted with kubectl is replaced by a Ready one, and no tenant is touched", async () => {
    const before = await tenantState();
    for (const service of SERVICES) {
      const old = (await pods()).find((p) => component(p) === service)?.metadata.name ?? "";
      expect(old, `${service}'s pod`).not.toBe("");
      const deleted = await cluster.kubectl(["delete", "pod", "-n", NS, old, "--wait=false"]);
      expect(deleted.code, deleted.stderr).toBe(0);
      await waitFor(
        async () => {
          const mine = (await pods()).filter((p) => component(p) === service);
          return mine.length === 1 && mine[0]?.metadata.name !== old && mine.every(ready)
            ? true
            : undefined;
        },
        { what: `a new ${service} pod Ready in place of ${old}`, timeoutMs: 120_000 },
      );
    }
    // Admitting and reconciling again (the new crd-hook and helmer), and the tenant as it was.
    const tenant = await tenantReady(before.generation);
    expect(await tenantState()).toEqual(before);
    expect(tenant.namespace).toBe(before.namespace);
  });

  it("helm uninstall of KubePlus leaves the tenant running and the CRDs in place, as the README says", async () => {
    const before = await tenantState();
    const removed = await helm(
      ["uninstall", RELEASE, "-n", NS, "--wait", "--timeout", "120s"],
      provider,
    );
    expect(removed.code, removed.out).toBe(0);
    expect((await cluster.kubectl(["get", "crd", TENANT_CRD, CRD_OF_COMPOSITIONS])).code).toBe(0);
    expect(await tenantState()).toEqual(before);
    const deployment = await cluster.kubectl([
      "get",
      "deployment",
      "hello-world-deployment-helloworldservice-hs1",
      "-n",
      before.namespace,
      "-o",
      "jsonpath={.status.readyReplicas}",
    ]);
    expect(deployment.stdout).toBe("1");
    // Nothing of KubePlus is left to remove the tenant: the teardown does what the helmer would have done.
    await mergePatch(TENANT_CRD, "hs1", { metadata: { finalizers: null } });
    await cluster.kubectl(["delete", TENANT_CRD, "hs1", "-n", NS, "--wait=false"]);
    await cluster.kubectl(["delete", "namespace", before.namespace, "--wait=false"]);
    await mergePatch("resourcecomposition", "hello-world-service-composition", {
      metadata: { finalizers: null },
    });
  });
});
