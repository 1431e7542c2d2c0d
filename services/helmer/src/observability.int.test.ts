// What an operator sees of the helmer and crd-hook: their /metrics after an instance's creation, and /readyz that
// follows NATS. The test runs a nats-server of its own (same CA, certificates and permissions as the control
// plane's) so that it can stop and restart it without touching the one other tests use.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { parseAllDocuments } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { natsServerConfig, repoRoot, webhookClientCaFile } from "@kubeplus/dev";
import {
  compositionManifest,
  freePort,
  ManifestDir,
  platformNamespace,
  serveFiles,
  serviceEnv,
  sharedChart,
  startPrometheus,
  startService,
  tearDownPlatform,
  TestCluster,
  waitFor,
  waitForCrd,
  type RunningService,
  type TestServer,
} from "@kubeplus/testing";

const cluster = new TestCluster();
const manifests = new ManifestDir("observability");
let kp = "";
let helmer: RunningService | undefined;
let hook: RunningService | undefined;
let charts: Awaited<ReturnType<typeof serveFiles>> | undefined;
let nats: { child: ChildProcess; exited: Promise<void> } | undefined;
let natsPort = 0;
let natsConfig = "";
let prometheus: TestServer | undefined;
const health = { helmer: "", hook: "" };

/** Starts this test's own nats-server (by its PID only ever stopped here). */
async function startNats(): Promise<void> {
  const child = spawn(cluster.state.tools.natsServer, ["-c", natsConfig], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout.on("data", (c: Buffer) => (out += c.toString()));
  child.stderr.on("data", (c: Buffer) => (out += c.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  nats = { child, exited };
  await waitFor(() => out.includes("Server is ready"), {
    what: "the test's nats-server to start",
    timeoutMs: 20_000,
    diagnose: () => out,
  });
}

async function stopNats(): Promise<void> {
  if (nats?.child.exitCode !== null || nats.child.signalCode !== null) return;
  nats.child.kill("SIGKILL");
  await nats.exited;
}

/** The health address a service logged when it started. */
async function healthUrl(service: RunningService, started: string): Promise<string> {
  const line = await service.waitForLog((l) => l.msg === started);
  const { port } = line.health as { port: number };
  return `http://127.0.0.1:${String(port)}`;
}

/** One sample's value from an exposition (`name{labels}` exactly as exposed), or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

const scrape = async (base: string): Promise<string> => (await fetch(`${base}/metrics`)).text();
const readyz = async (base: string): Promise<{ status: number; body: Record<string, unknown> }> => {
  const res = await fetch(`${base}/readyz`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

beforeAll(async () => {
  kp = await platformNamespace(cluster, "obs");
  natsPort = await freePort();
  const authDir = cluster.state.natsAuthDir;
  const dir = mkdtempSync(join(tmpdir(), "obs-nats-"));
  natsConfig = join(dir, "nats-server.conf");
  writeFileSync(
    natsConfig,
    natsServerConfig({
      port: natsPort,
      monitorPort: await freePort(),
      storeDir: join(dir, "js"),
      files: {
        dir: authDir,
        caFile: cluster.state.natsCaFile,
        serverCert: join(authDir, "server.crt"),
        serverKey: join(authDir, "server.key"),
        config: natsConfig,
      },
    }),
  );
  await startNats();
  const natsUrl = `nats://127.0.0.1:${String(natsPort)}`;
  charts = await serveFiles({
    "/hello-world-chart-0.0.3.tgz": sharedChart("hello-world-chart-0.0.3.tgz"),
  });
  helmer = await startService(
    "helmer",
    serviceEnv(cluster.state, {
      KUBEPLUS_NAMESPACE: kp,
      CHART_CACHE_DIR: join(manifests.dir, "cache"),
      POD_NAME: `helmer-${kp}`,
      NATS_URL: natsUrl,
    }),
    (l) => l.msg === "leading: controllers started",
  );
  const hookPort = await freePort();
  hook = await startService(
    "crd-hook",
    serviceEnv(cluster.state, {
      KUBEPLUS_NAMESPACE: kp,
      PORT: String(hookPort),
      HOST: "127.0.0.1",
      WEBHOOK_URL: `https://127.0.0.1:${String(hookPort)}`,
      CLIENT_CA_FILE: webhookClientCaFile(cluster.state.runDir),
      NATS_URL: natsUrl,
    }),
    (l) => l.msg === "crd-hook started",
  );
  health.helmer = await healthUrl(helmer, "helmer started");
  health.hook = await healthUrl(hook, "crd-hook started");
  const rc = compositionManifest({
    name: "hello-world-service-composition",
    namespace: kp,
    kind: "HelloWorldService",
    plural: "helloworldservices",
    chartURL: `${charts.url}/hello-world-chart-0.0.3.tgz`,
    chartName: "hello-world-chart",
  });
  expect((await cluster.kubectl(["create", "-f", manifests.write("rc", rc)])).stderr).toBe("");
  await waitForCrd(cluster, "helloworldservices.platformapi.kubeplus");
}, 180_000);

afterAll(async () => {
  // NATS back first: crd-hook (fail-closed webhooks) must answer the deletions.
  if (nats && (nats.child.exitCode !== null || nats.child.signalCode !== null)) await startNats();
  await tearDownPlatform(cluster, {
    namespace: kp,
    generatedCrds: ["helloworldservices.platformapi.kubeplus"],
    services: [hook, helmer],
    webhooks: true,
  });
  await charts?.close();
  await prometheus?.stop();
  await stopNats();
});

describe("metrics and readiness an operator can rely on", () => {
  it("shows the reconcile, queue, helm, chart, NATS and admission families with counts after an instance's creation", async () => {
    const instance = manifests.write("obs1", {
      apiVersion: "platformapi.kubeplus/v1alpha1",
      kind: "HelloWorldService",
      metadata: { name: "obs1", namespace: kp },
      spec: { greeting: "hello", replicas: 1 },
    });
    expect((await cluster.kubectl(["create", "-f", instance])).stderr).toBe("");
    await waitFor(
      async () => {
        const r = await cluster.kubectl([
          "get",
          "helloworldservice",
          "obs1",
          "-n",
          kp,
          "-o",
          "jsonpath={.status.conditions[?(@.type=='Ready')].status}",
        ]);
        return r.stdout === "True";
      },
      { what: "obs1 to be Ready", timeoutMs: 90_000, diagnose: () => cluster.diagnose("obs1") },
    );
    const h = await scrape(health.helmer);
    const positive: string[] = [
      'controller_runtime_reconcile_total{controller="instance",result="success"}',
      'controller_runtime_reconcile_time_seconds_count{controller="instance"}',
      'controller_runtime_reconcile_total{controller="resourcecomposition",result="success"}',
      'workqueue_adds_total{name="instance"}',
      'workqueue_queue_duration_seconds_count{name="instance"}',
      'workqueue_work_duration_seconds_count{name="instance"}',
      'kubeplus_helm_run_duration_seconds_count{action="upgrade-install",outcome="success"}',
      'kubeplus_chart_fetch_duration_seconds_count{source="http",outcome="success"}',
      'kubeplus_chart_cache_lookups_total{cache="chart",result="hit"}',
      'kubeplus_nats_handler_duration_seconds_count{subject="kubeplus.v1.helmer.render",outcome="success"}',
      "process_cpu_seconds_total",
      "nodejs_heap_size_used_bytes",
    ];
    for (const series of positive) expect(sample(h, series) ?? 0, series).toBeGreaterThan(0);
    // Bounded labels: the instance's name is in no series.
    expect(h).not.toContain("obs1");

    const c = await scrape(health.hook);
    for (const series of [
      'kubeplus_admission_verdicts_total{webhook="validate",kind="HelloWorldService",operation="CREATE",verdict="allowed"}',
      'kubeplus_admission_verdicts_total{webhook="validate",kind="ResourceComposition",operation="CREATE",verdict="allowed"}',
      'kubeplus_admission_request_duration_seconds_count{webhook="validate",kind="HelloWorldService"}',
      'kubeplus_nats_request_duration_seconds_count{subject="kubeplus.v1.helmer.render",outcome="success"}',
      "process_resident_memory_bytes",
    ])
      expect(sample(c, series) ?? 0, series).toBeGreaterThan(0);
    expect(c).not.toContain("obs1");
  });

  it("a real Prometheus scrapes both and answers PromQL on reconcile and admission latency", async () => {
    const target = (base: string): string => base.replace("http://", "");
    prometheus = await startPrometheus(cluster.state, [target(health.helmer), target(health.hook)]);
    const query = async (promql: string): Promise<number | undefined> => {
      const res = await fetch(
        `${prometheus?.url ?? ""}/api/v1/query?query=${encodeURIComponent(promql)}`,
      );
      const body = (await res.json()) as { data?: { result?: { value: [number, string] }[] } };
      const value = body.data?.result?.[0]?.value[1];
      // No sample yet, or a quantile of no observations (NaN): not an answer yet.
      const number = value === undefined ? Number.NaN : Number(value);
      return Number.isFinite(number) ? number : undefined;
    };
    const reconcileP99 = await waitFor(
      () =>
        query(
          'histogram_quantile(0.99, sum by (le) (controller_runtime_reconcile_time_seconds_bucket{controller="instance"}))',
        ),
      {
        what: "Prometheus to answer the reconcile latency",
        timeoutMs: 30_000,
        diagnose: () => prometheus?.output() ?? "",
      },
    );
    expect(reconcileP99).toBeGreaterThan(0.001);
    expect(reconcileP99).toBeLessThan(60);
    // Prometheus scrapes its two targets each on its own schedule: crd-hook's first scrape may come after the helmer's.
    const admissionP99 = await waitFor(
      () =>
        query(
          'histogram_quantile(0.99, sum by (le) (kubeplus_admission_request_duration_seconds_bucket{webhook="validate"}))',
        ),
      {
        what: "Prometheus to answer the admission latency",
        timeoutMs: 30_000,
        diagnose: () => prometheus?.output() ?? "",
      },
    );
    expect(admissionP99).toBeGreaterThan(0);
    expect(admissionP99).toBeLessThan(10);
    // Both targets are up, as Prometheus sees them.
    expect(
      await waitFor(async () => ((await query("sum(up)")) === 2 ? 2 : undefined), {
        what: "Prometheus to see both targets up",
        timeoutMs: 30_000,
      }),
    ).toBe(2);
  });

  it("takes crd-hook out of service while NATS is gone, and the helmer keeps leading; both recover with NATS", async () => {
    expect((await readyz(health.hook)).status).toBe(200);
    expect((await readyz(health.helmer)).body).toMatchObject({
      leader: true,
      servingRenders: true,
    });
    await stopNats();
    const down = await waitFor(
      async () => {
        const r = await readyz(health.hook);
        return r.status === 503 ? r : undefined;
      },
      { what: "crd-hook's /readyz to drop without NATS", timeoutMs: 15_000 },
    );
    expect(down.body).toMatchObject({ ok: false, nats: false });
    // The helmer still leads (its controllers need no NATS) but no longer serves renders.
    const helmerDown = await readyz(health.helmer);
    expect(helmerDown.status).toBe(200);
    expect(helmerDown.body).toMatchObject({ leader: true, servingRenders: false });

    await startNats();
    await waitFor(async () => (await readyz(health.hook)).status === 200, {
      what: "crd-hook's /readyz to come back with NATS",
      timeoutMs: 30_000,
    });
    await waitFor(async () => (await readyz(health.helmer)).body.servingRenders === true, {
      what: "the helmer to serve renders again",
      timeoutMs: 30_000,
    });
  });
});

interface Rendered {
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  spec: Record<string, unknown>;
}

/** `helm template` of the KubePlus chart with these --set values. */
async function renderChart(sets: string[]): Promise<Rendered[]> {
  const { stdout } = await promisify(execFile)(
    cluster.state.tools.helm,
    [
      "template",
      "kubeplus",
      join(repoRoot, "deploy", "charts", "kubeplus"),
      "-n",
      "kubeplus",
      ...sets.flatMap((s) => ["--set", s]),
    ],
    { maxBuffer: 16 * 1024 * 1024 },
  );
  return parseAllDocuments(stdout)
    .map((d) => d.toJSON() as Rendered | null)
    .filter((o): o is Rendered => o !== null);
}

const SERVICES = ["crd-hook", "helmer", "kubeconfig-generator", "metrics-collector"];

describe("the chart's Prometheus Operator toggles", () => {
  it("renders no monitor by default, and a PodMonitor and a ServiceMonitor that reach every service's /metrics", async () => {
    const plain = await renderChart([]);
    expect(plain.filter((o) => o.kind.endsWith("Monitor"))).toEqual([]);
    const objects = await renderChart([
      "monitoring.podMonitor.enabled=true",
      "monitoring.serviceMonitor.enabled=true",
      "monitoring.serviceMonitor.labels.release=prom",
      "networkPolicy.metricsFromNamespaces={monitoring}",
    ]);
    const podMonitor = objects.find((o) => o.kind === "PodMonitor");
    const selector = podMonitor?.spec.selector as {
      matchLabels: Record<string, string>;
      matchExpressions: { key: string; values: string[] }[];
    };
    expect(podMonitor?.spec.podMetricsEndpoints).toEqual([
      { port: "health", path: "/metrics", interval: "30s" },
    ]);
    // The selector picks exactly the four services' pods, each of which names its health port.
    const deployments = objects.filter((o) => o.kind === "Deployment");
    const picked = deployments.filter((d) => {
      const template = d.spec.template as {
        metadata: { labels: Record<string, string> };
        spec: { containers: { ports?: { name: string }[] }[] };
      };
      const labels = template.metadata.labels;
      const matches =
        Object.entries(selector.matchLabels).every(([k, v]) => labels[k] === v) &&
        selector.matchExpressions.every((e) => e.values.includes(labels[e.key] ?? ""));
      if (matches)
        expect(template.spec.containers[0]?.ports?.map((p) => p.name)).toContain("health");
      return matches;
    });
    expect(picked.map((d) => d.metadata.name).sort()).toEqual(SERVICES);

    const serviceMonitor = objects.find((o) => o.kind === "ServiceMonitor");
    expect(serviceMonitor?.metadata.labels).toMatchObject({ release: "prom" });
    const wanted = (serviceMonitor?.spec.selector as { matchLabels: Record<string, string> })
      .matchLabels;
    const services = objects.filter(
      (o) =>
        o.kind === "Service" &&
        Object.entries(wanted).every(([k, v]) => o.metadata.labels?.[k] === v),
    );
    expect(services.map((s) => s.metadata.name).sort()).toEqual(
      SERVICES.map((s) => `${s}-metrics`),
    );
    for (const s of services)
      expect(s.spec.ports).toEqual([{ name: "health", port: 8081, targetPort: "health" }]);
    // The monitoring namespace may reach the health ports through the NetworkPolicy.
    const policy = JSON.stringify(objects.find((o) => o.kind === "NetworkPolicy")?.spec);
    expect(policy).toContain('"port":8081');
  });
});
