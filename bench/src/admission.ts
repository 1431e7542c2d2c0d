// Admission benchmark (issue: platform API and crd-hook): latency of crd-hook's HTTPS endpoint, measured the way the
// apiserver calls it (AdmissionReview v1 over TLS with keep-alive), against real helmer and crd-hook processes.
import { Agent, request } from "node:https";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AdmissionregistrationV1Api, CoreV1Api } from "@kubernetes/client-node";
import { stringify } from "yaml";
import type { ClusterState } from "@kubeplus/dev";
import {
  compositionManifest,
  kubeConfigFromFile,
  serveFiles,
  serviceEnv,
  sharedChart,
  startOtlpReceiver,
  startService,
  testWebhookName,
  type OtlpReceiver,
  type RunningService,
} from "@kubeplus/testing";
import { installPlatformCrds, kubectl } from "./platform.js";
import { percentile, type Figure } from "./report.js";

const RATE_PER_SECOND = 200;
const DURATION_MS = 10_000;
const COMPOSITION_SAMPLES = 60;

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

function post(
  agent: Agent,
  port: number,
  path: string,
  body: string,
): Promise<{ ms: number; allowed: boolean; message?: string }> {
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        path,
        method: "POST",
        agent,
        rejectUnauthorized: false,
        headers: { "content-type": "application/json" },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const ms = Number(process.hrtime.bigint() - started) / 1e6;
          const review = JSON.parse(Buffer.concat(chunks).toString()) as {
            response: { allowed: boolean; status?: { message?: string } };
          };
          const message = review.response.status?.message;
          resolve({ ms, allowed: review.response.allowed, ...(message ? { message } : {}) });
        });
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

function review(uid: string, kind: { group: string; kind: string }, object: object): string {
  return JSON.stringify({
    apiVersion: "admission.k8s.io/v1",
    kind: "AdmissionReview",
    request: {
      uid,
      kind: { group: kind.group, version: "v1alpha1", kind: kind.kind },
      resource: { group: kind.group, version: "v1alpha1", resource: "x" },
      operation: "CREATE",
      userInfo: { username: "bench" },
      namespace: (object as { metadata: { namespace: string } }).metadata.namespace,
      name: (object as { metadata: { name: string } }).metadata.name,
      object,
    },
  });
}

interface Setup {
  readonly kp: string;
  readonly port: number;
  readonly helmer: RunningService;
  readonly hook: RunningService;
  readonly chartURL: string;
  readonly close: () => Promise<void>;
}

/** Creates the benchmark's composition and waits for the helmer to register its CRD. */
async function registerComposition(
  state: ClusterState,
  kp: string,
  dir: string,
  chartURL: string,
): Promise<void> {
  const composition = compositionManifest({
    name: "hello-world-service-composition",
    namespace: kp,
    kind: "HelloWorldService",
    plural: "helloworldservices",
    chartURL,
    chartName: "hello-world-chart",
  });
  writeFileSync(join(dir, "rc.yaml"), stringify(composition));
  await kubectl(state, ["create", "-f", join(dir, "rc.yaml")]);
  // The helmer's composition controller registers the generated CRD.
  await kubectl(state, [
    "wait",
    "--for=condition=Established",
    "crd/helloworldservices.platformapi.kubeplus",
    "--timeout=60s",
  ]).catch(async () => {
    await new Promise((r) => setTimeout(r, 2000));
    await kubectl(state, [
      "wait",
      "--for=condition=Established",
      "crd/helloworldservices.platformapi.kubeplus",
      "--timeout=60s",
    ]);
  });
}

/** `tracing`: the services export their spans over OTLP to this collector (undefined: tracing off, the default). */
async function setUp(state: ClusterState, tracing?: OtlpReceiver): Promise<Setup> {
  const kc = kubeConfigFromFile(state.kubeconfig);
  const core = kc.makeApiClient(CoreV1Api);
  const kp = `bench-${Date.now().toString(36)}`;
  const dir = mkdtempSync(join(tmpdir(), "bench-admission-"));
  await core.createNamespace({ body: { metadata: { name: kp } } });
  await installPlatformCrds(state);
  const chart = sharedChart("hello-world-chart-0.0.3.tgz");
  const files = await serveFiles({ "/hello-world-chart-0.0.3.tgz": chart });
  const port = await freePort();
  const base = {
    KUBEPLUS_NAMESPACE: kp,
    LOG_LEVEL: "info",
    ...(tracing ? { OTEL_EXPORTER_OTLP_ENDPOINT: tracing.url } : {}),
  };
  const helmer = await startService(
    "helmer",
    // The benchmark's composition reviews come from one caller (crd-hook) far faster than a provider's: no limit.
    serviceEnv(state, { ...base, CHART_CACHE_DIR: join(dir, "cache"), RENDER_BURST: "100000" }),
    (l) => l.msg === "helmer started",
  );
  const hook = await startService(
    "crd-hook",
    serviceEnv(state, {
      ...base,
      PORT: String(port),
      HOST: "127.0.0.1",
      WEBHOOK_URL: `https://127.0.0.1:${port}`,
    }),
    (l) => l.msg === "crd-hook started",
  );
  const chartURL = `${files.url}/hello-world-chart-0.0.3.tgz`;
  try {
    await registerComposition(state, kp, dir, chartURL);
  } catch (err) {
    // The services run detached: a failed setup must not leave them (and crd-hook's webhooks) behind.
    await hook.stop();
    await helmer.stop();
    await files.close();
    throw err;
  }
  const admission = kc.makeApiClient(AdmissionregistrationV1Api);
  return {
    kp,
    port,
    helmer,
    hook,
    chartURL,
    close: async () => {
      await hook.stop();
      await helmer.stop();
      // startService names crd-hook's webhook configurations after its namespace.
      await admission
        .deleteValidatingWebhookConfiguration({ name: testWebhookName(kp) })
        .catch(() => undefined);
      await admission
        .deleteMutatingWebhookConfiguration({ name: testWebhookName(kp) })
        .catch(() => undefined);
      await kubectl(state, [
        "delete",
        "crd",
        "helloworldservices.platformapi.kubeplus",
        "--ignore-not-found",
      ]);
      await core.deleteNamespace({ name: kp }).catch(() => undefined);
      await files.close();
    },
  };
}

/** Open-loop load: one instance review every 1000/RATE ms for DURATION, each with a new name. */
async function instanceLoad(
  s: Setup,
  agent: Agent,
): Promise<{ latencies: number[]; denied: number; achievedRps: number; why?: string }> {
  const kind = { group: "platformapi.kubeplus", kind: "HelloWorldService" };
  const body = (i: number): string =>
    review(`i-${i}`, kind, {
      apiVersion: "platformapi.kubeplus/v1alpha1",
      kind: "HelloWorldService",
      // The apiserver gives an object its UID before the validating webhooks see it (the instance's namespace is named after it).
      metadata: { name: `hs-${i}`, namespace: s.kp, uid: crypto.randomUUID() },
      spec: { greeting: "hi" },
    });
  for (let i = 0; i < 200; i++) await post(agent, s.port, "/validate", body(-i - 1)); // warm-up
  const pending: Promise<{ ms: number; allowed: boolean; message?: string }>[] = [];
  const interval = 1000 / RATE_PER_SECOND;
  const started = performance.now();
  for (let i = 0; performance.now() - started < DURATION_MS; i++) {
    const due = started + i * interval;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    pending.push(post(agent, s.port, "/validate", body(i)));
  }
  const results = await Promise.all(pending);
  const elapsed = (performance.now() - started) / 1000;
  return {
    latencies: results.map((r) => r.ms).sort((a, b) => a - b),
    denied: results.filter((r) => !r.allowed).length,
    achievedRps: results.length / elapsed,
    ...whyDenied(results),
  };
}

/** The first refusal's message, to say why a benchmark's requests were denied. */
function whyDenied(results: readonly { allowed: boolean; message?: string }[]): { why?: string } {
  const message = results.find((r) => !r.allowed)?.message;
  return message ? { why: message } : {};
}

async function compositionLoad(
  s: Setup,
  agent: Agent,
): Promise<{ latencies: number[]; denied: number }> {
  const body = (i: number): string =>
    review(
      `c-${i}`,
      { group: "workflows.kubeplus", kind: "ResourceComposition" },
      compositionManifest({
        name: `bench-${i}`,
        namespace: s.kp,
        kind: `BenchApp${i}`,
        plural: `benchapps${i}`,
        chartURL: s.chartURL,
        chartName: "hello-world-chart",
      }),
    );
  for (let i = 0; i < 3; i++) await post(agent, s.port, "/validate", body(1000 + i)); // fills the chart and render caches
  const results = [];
  for (let i = 0; i < COMPOSITION_SAMPLES; i++)
    results.push(await post(agent, s.port, "/validate", body(i)));
  return {
    latencies: results.map((r) => r.ms).sort((a, b) => a - b),
    denied: results.filter((r) => !r.allowed).length,
  };
}

export async function benchAdmission(state: ClusterState): Promise<Figure[]> {
  const figures = await benchUntraced(state);
  const untracedP99 = figures[0]?.value ?? Number.NaN;
  return [...figures, await benchTraced(state, untracedP99)];
}

/** Tracing off (no OTEL_EXPORTER_OTLP_ENDPOINT), as by default. */
async function benchUntraced(state: ClusterState): Promise<Figure[]> {
  const s = await setUp(state);
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  try {
    const instances = await instanceLoad(s, agent);
    const compositions = await compositionLoad(s, agent);
    const ip99 = percentile(instances.latencies, 99);
    const ip50 = percentile(instances.latencies, 50);
    const cp99 = percentile(compositions.latencies, 99);
    const cp50 = percentile(compositions.latencies, 50);
    if (instances.denied > 0 || compositions.denied > 0) {
      throw new Error(
        `benchmark requests were denied (instances ${instances.denied}, compositions ${compositions.denied}): the setup is wrong (${instances.why ?? ""})`,
      );
    }
    return [
      {
        benchmark: "admission",
        figure: `instance admission p99 at ${RATE_PER_SECOND} req/s (${instances.latencies.length} reviews, HTTPS, achieved ${instances.achievedRps.toFixed(0)} req/s)`,
        target: "<= 5 ms",
        measured: `${ip99.toFixed(2)} ms (p50 ${ip50.toFixed(2)} ms)`,
        value: ip99,
        unit: "ms",
        met: ip99 <= 5,
      },
      {
        benchmark: "admission",
        figure: `composition admission p99, cached chart (${COMPOSITION_SAMPLES} reviews)`,
        target: "<= 300 ms",
        measured: `${cp99.toFixed(1)} ms (p50 ${cp50.toFixed(1)} ms)`,
        value: cp99,
        unit: "ms",
        met: cp99 <= 300,
      },
    ];
  } finally {
    agent.destroy();
    await s.close();
  }
}

/**
 * The same instance load with tracing on: crd-hook records a span per review (and one per event it publishes) and
 * exports them over OTLP/HTTP to a collector in this process. The figure says what tracing costs when it is on.
 */
async function benchTraced(state: ClusterState, untracedP99: number): Promise<Figure> {
  const collector = await startOtlpReceiver();
  const s = await setUp(state, collector);
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  try {
    const instances = await instanceLoad(s, agent);
    const p99 = percentile(instances.latencies, 99);
    const p50 = percentile(instances.latencies, 50);
    if (instances.denied > 0)
      throw new Error(`${instances.denied} traced reviews were denied: ${instances.why ?? ""}`);
    const exported = collector.spans().filter((x) => x.service === "crd-hook").length;
    if (exported === 0) throw new Error("tracing on, but crd-hook exported no span");
    return {
      benchmark: "admission",
      figure: `instance admission p99 at ${RATE_PER_SECOND} req/s with tracing on (OTLP/HTTP to a collector; ${instances.latencies.length} reviews, ${exported} spans received)`,
      target: `<= 5 ms (untraced: ${untracedP99.toFixed(2)} ms)`,
      measured: `${p99.toFixed(2)} ms (p50 ${p50.toFixed(2)} ms)`,
      value: p99,
      unit: "ms",
      met: p99 <= 5,
    };
  } finally {
    agent.destroy();
    await s.close();
    await collector.close();
  }
}
