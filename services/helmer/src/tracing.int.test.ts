// The traces of one instance's creation, as an operator's collector receives them: crd-hook and the helmer export
// over OTLP/HTTP to an in-process receiver, and the spans of the admission, its NATS messages, the reconcile and the
// helm run must form one trace with the right parent of each span (docs/observability.md).
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { webhookClientCaFile } from "@kubeplus/dev";
import {
  compositionManifest,
  freePort,
  ManifestDir,
  platformNamespace,
  serveFiles,
  serviceEnv,
  sharedChart,
  spanAttribute,
  startOtlpReceiver,
  startService,
  tearDownPlatform,
  TestCluster,
  waitFor,
  waitForCrd,
  type OtlpReceiver,
  type ReceivedSpan,
  type RunningService,
} from "@kubeplus/testing";

const cluster = new TestCluster();
const manifests = new ManifestDir("tracing");
const KIND = "HelloWorldService";
let kp = "";
let helmer: RunningService | undefined;
let hook: RunningService | undefined;
let charts: Awaited<ReturnType<typeof serveFiles>> | undefined;
let collector: OtlpReceiver | undefined;

const SERVER = 2;
const CLIENT = 3;
const PRODUCER = 4;
const CONSUMER = 5;

/** The one span matching, with a readable failure listing what was received. */
function one(
  spans: readonly ReceivedSpan[],
  what: string,
  match: (s: ReceivedSpan) => boolean,
): ReceivedSpan {
  const found = spans.filter(match);
  if (found.length !== 1)
    throw new Error(
      `expected one ${what}, found ${String(found.length)} among:\n${spans.map((s) => `${s.service} ${s.name}`).join("\n")}`,
    );
  return found[0]!;
}

/** `child` is a child of `parent`, in the same trace. */
function expectChild(child: ReceivedSpan, parent: ReceivedSpan): void {
  expect(child.traceId, `${child.name} in the trace of ${parent.name}`).toBe(parent.traceId);
  expect(child.parentSpanId, `${child.name} is a child of ${parent.name}`).toBe(parent.spanId);
}

/** crd-hook's span of one webhook's admission of a create of `kind` (named `name`, when given). */
const isAdmission = (kind: string, webhook: string, name?: string) => (s: ReceivedSpan) =>
  s.service === "crd-hook" &&
  s.name === `admission ${kind}` &&
  spanAttribute(s, "kubeplus.admission.webhook") === webhook &&
  (name === undefined || spanAttribute(s, "kubeplus.name") === name) &&
  spanAttribute(s, "kubeplus.admission.operation") === "CREATE";

beforeAll(async () => {
  kp = await platformNamespace(cluster, "trace");
  collector = await startOtlpReceiver();
  charts = await serveFiles({
    "/hello-world-chart-0.0.3.tgz": sharedChart("hello-world-chart-0.0.3.tgz"),
  });
  // Batches every 200 ms (5 s by default), so that the test does not wait for them.
  const tracing = { OTEL_EXPORTER_OTLP_ENDPOINT: collector.url, OTEL_BSP_SCHEDULE_DELAY: "200" };
  helmer = await startService(
    "helmer",
    serviceEnv(cluster.state, {
      KUBEPLUS_NAMESPACE: kp,
      CHART_CACHE_DIR: join(manifests.dir, "cache"),
      POD_NAME: `helmer-${kp}`,
      ...tracing,
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
      ...tracing,
    }),
    (l) => l.msg === "crd-hook started",
  );
  const rc = compositionManifest({
    name: "hello-world-service-composition",
    namespace: kp,
    kind: KIND,
    plural: "helloworldservices",
    chartURL: `${charts.url}/hello-world-chart-0.0.3.tgz`,
    chartName: "hello-world-chart",
  });
  expect((await cluster.kubectl(["create", "-f", manifests.write("rc", rc)])).stderr).toBe("");
  await waitForCrd(cluster, "helloworldservices.platformapi.kubeplus");
}, 180_000);

afterAll(async () => {
  await tearDownPlatform(cluster, {
    namespace: kp,
    generatedCrds: ["helloworldservices.platformapi.kubeplus"],
    services: [hook, helmer],
    webhooks: true,
  });
  await charts?.close();
  await collector?.close();
});

describe("traces through admission, NATS, reconcile and helm", () => {
  it("exports the services' spans and both tell they trace", () => {
    for (const s of [helmer, hook])
      expect(s?.logs().find((l) => typeof l.tracing === "boolean")?.tracing, s?.name).toBe(true);
  });

  it("links a composition's admission to its render request over NATS and the helmer's answer", async () => {
    // Retried until every span is in and linked: each service exports its batch on its own schedule.
    await waitFor(
      () => {
        const spans = collector?.spans() ?? [];
        const validate = one(
          spans,
          "validating admission of the composition",
          isAdmission("ResourceComposition", "validate"),
        );
        const mutate = one(
          spans,
          "mutating admission of the composition",
          isAdmission("ResourceComposition", "mutate"),
        );
        const request = one(
          spans,
          "render request",
          (s) =>
            s.service === "crd-hook" &&
            s.name === "request kubeplus.v1.helmer.render" &&
            s.traceId === mutate.traceId,
        );
        const answer = one(
          spans,
          "render answer",
          (s) =>
            s.service === "helmer" &&
            s.name === "process kubeplus.v1.helmer.render" &&
            s.traceId === mutate.traceId,
        );
        expect([mutate.kind, validate.kind, request.kind, answer.kind]).toEqual([
          SERVER,
          SERVER,
          CLIENT,
          SERVER,
        ]);
        expectChild(validate, mutate);
        expectChild(request, validate);
        // Across processes: the helmer read crd-hook's context from the NATS message's headers.
        expectChild(answer, request);
        // The admitted event, over NATS to the helmer's subscriber: the consumer's span is the publisher's child.
        const published = one(
          spans,
          "composition-admitted event",
          (s) =>
            s.name === "publish kubeplus.v1.evt.composition.admitted" &&
            s.traceId === mutate.traceId,
        );
        const consumed = one(
          spans,
          "the helmer's delivery of it",
          (s) =>
            s.service === "helmer" &&
            s.name === "process kubeplus.v1.evt.composition.admitted" &&
            s.traceId === mutate.traceId,
        );
        expect([published.kind, consumed.kind]).toEqual([PRODUCER, CONSUMER]);
        expectChild(published, validate);
        expectChild(consumed, published);
        // Its reconciles until it is Ready join the trace of its creation.
        const reconciles = spans.filter(
          (s) => s.service === "helmer" && s.name === "reconcile ResourceComposition",
        );
        expect(reconciles.filter((r) => r.parentSpanId === mutate.spanId).length).toBeGreaterThan(
          0,
        );
        // The chart's first render (for the render request or the reconcile, whichever came first) is in that trace.
        const template = spans.find(
          (s) => s.name === "helm template" && s.traceId === mutate.traceId,
        );
        expect(template, "helm template in the composition's trace").toBeDefined();
        expect(spans.map((s) => s.spanId)).toContain(template?.parentSpanId);
        return true;
      },
      { what: "the composition's spans, linked", timeoutMs: 30_000 },
    );
  });

  it("gives one instance's creation one trace: admission, its NATS event, the reconcile, helm, the Ready event", async () => {
    const instance = manifests.write("tr1", {
      apiVersion: "platformapi.kubeplus/v1alpha1",
      kind: KIND,
      metadata: { name: "tr1", namespace: kp },
      spec: { greeting: "hello", replicas: 1 },
    });
    expect((await cluster.kubectl(["create", "-f", instance])).stderr).toBe("");
    // The object carries the admission's trace context for the helmer.
    const traceparent = (
      await cluster.kubectl([
        "get",
        "helloworldservice",
        "tr1",
        "-n",
        kp,
        "-o",
        "jsonpath={.metadata.annotations.kubeplus\\.dev/traceparent}",
      ])
    ).stdout;
    expect(traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);

    const ready = "publish kubeplus.v1.evt.instance.ready";
    await waitFor(
      async () =>
        (
          await cluster.kubectl([
            "get",
            "helloworldservice",
            "tr1",
            "-n",
            kp,
            "-o",
            "jsonpath={.status.conditions[?(@.type=='Ready')].status}",
          ])
        ).stdout === "True",
      { what: "tr1 to be Ready", timeoutMs: 90_000, diagnose: () => cluster.diagnose("tr1") },
    );
    await waitFor(
      () => {
        const spans = collector?.spans() ?? [];
        const mutate = one(spans, "mutating admission of tr1", isAdmission(KIND, "mutate", "tr1"));
        const validate = one(
          spans,
          "validating admission of tr1",
          isAdmission(KIND, "validate", "tr1"),
        );
        expect(traceparent).toBe(`00-${mutate.traceId}-${mutate.spanId}-01`);
        expectChild(validate, mutate);
        const admitted = one(
          spans,
          "instance-admitted event",
          (s) =>
            s.name === "publish kubeplus.v1.evt.instance.admitted" && s.traceId === mutate.traceId,
        );
        expect(admitted.kind).toBe(PRODUCER);
        expectChild(admitted, validate);

        const reconciles = spans.filter(
          (s) =>
            s.service === "helmer" &&
            s.name === `reconcile ${KIND}` &&
            spanAttribute(s, "kubeplus.name") === "tr1",
        );
        expect(reconciles.length).toBeGreaterThan(0);
        for (const r of reconciles) expectChild(r, mutate);
        const helm = one(
          spans,
          "helm run of tr1",
          (s) =>
            s.name === "helm upgrade-install" &&
            spanAttribute(s, "kubeplus.helm.release") === "helloworldservice-tr1",
        );
        expect(spanAttribute(helm, "kubeplus.helm.action")).toBe("upgrade-install");
        expect(spanAttribute(helm, "kubeplus.helm.outcome")).toBe("success");
        const install = reconciles.find((r) => r.spanId === helm.parentSpanId);
        expect(install, "the helm run is a child of one of tr1's reconciles").toBeDefined();
        expectChild(helm, install!);
        // Never values: the spec's greeting is in no attribute.
        expect(JSON.stringify(helm.attributes)).not.toContain('hello"');
        const readyEvent = one(
          spans,
          "Ready event of tr1",
          (s) => s.name === ready && s.traceId === mutate.traceId,
        );
        expect(reconciles.map((r) => r.spanId)).toContain(readyEvent.parentSpanId);
        return true;
      },
      { what: "tr1's spans, linked", timeoutMs: 30_000 },
    );
  });
});
