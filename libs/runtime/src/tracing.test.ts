import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { gunzipSync } from "node:zlib";
import { propagation, SpanKind, trace } from "@opentelemetry/api";
import { afterAll, describe, expect, it } from "vitest";
import {
  contextFromTraceparent,
  inSpan,
  startTracing,
  traceparentOf,
  tracingConfig,
  tracingEnabled,
} from "./tracing.js";

interface ReceivedSpan {
  name: string;
  kind: number;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  attributes: { key: string; value: Record<string, unknown> }[];
  service: string;
}

/** A bare OTLP/HTTP JSON receiver on 127.0.0.1: what the exporter sends, decoded. */
async function receiver(): Promise<{ url: string; spans: ReceivedSpan[]; server: Server }> {
  const spans: ReceivedSpan[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      let body = Buffer.concat(chunks);
      if (req.headers["content-encoding"] === "gzip") body = gunzipSync(body);
      const doc = JSON.parse(body.toString()) as {
        resourceSpans: {
          resource: { attributes: { key: string; value: { stringValue?: string } }[] };
          scopeSpans: { spans: Omit<ReceivedSpan, "service">[] }[];
        }[];
      };
      for (const rs of doc.resourceSpans) {
        const service =
          rs.resource.attributes.find((a) => a.key === "service.name")?.value.stringValue ?? "";
        for (const ss of rs.scopeSpans) for (const s of ss.spans) spans.push({ ...s, service });
      }
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${String(port)}`, spans, server };
}

/** The spans of the exporting test, as the receiver got them: services, kinds, links, attributes, status. */
function expectExported(spans: ReceivedSpan[], remote: string): void {
  const named = (name: string): ReceivedSpan => {
    const span = spans.find((s) => s.name === name);
    if (!span) throw new Error(`no span ${name} among ${spans.map((s) => s.name).join(", ")}`);
    return span;
  };
  const outer = named("outer");
  const inner = named("inner");
  const child = named("remote child");
  expect(outer.service).toBe("crd-hook");
  expect(outer.kind).toBe(2); // SPAN_KIND_SERVER
  expect(outer.parentSpanId ?? "").toBe("");
  expect(inner.traceId).toBe(outer.traceId);
  expect(inner.parentSpanId).toBe(outer.spanId);
  expect(inner.attributes).toContainEqual({
    key: "kubeplus.helm.action",
    value: { stringValue: "install" },
  });
  expect(child.traceId).toBe(outer.traceId);
  expect(child.parentSpanId).toBe(outer.spanId);
  expect(remote).toBe(`00-${outer.traceId}-${outer.spanId}-01`);
  expect(named("failing")).toMatchObject({ status: { code: 2, message: "boom" } });
}

let server: Server | undefined;
afterAll(() => server?.close());

describe("tracing configuration", () => {
  it("is off without an OTLP endpoint, and appends /v1/traces to the general one", () => {
    expect(tracingConfig({}).url).toBeUndefined();
    expect(tracingConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318/" }).url).toBe(
      "http://c:4318/v1/traces",
    );
    expect(
      tracingConfig({
        OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318",
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://t:4318/custom",
      }).url,
    ).toBe("http://t:4318/custom");
    expect(tracingConfig({ OTEL_SERVICE_NAME: "helmer-eu" }).serviceName).toBe("helmer-eu");
    expect(tracingConfig({}).sampleRatio).toBe(1);
    expect(tracingConfig({ OTEL_TRACES_SAMPLER_ARG: "0.25" }).sampleRatio).toBe(0.25);
    expect(() => tracingConfig({ OTEL_TRACES_SAMPLER_ARG: "2" })).toThrow(/between 0 and 1/);
    expect(tracingConfig({}).exportDelayMs).toBe(5000);
    expect(tracingConfig({ OTEL_BSP_SCHEDULE_DELAY: "200" }).exportDelayMs).toBe(200);
    expect(() => tracingConfig({ OTEL_BSP_SCHEDULE_DELAY: "soon" })).toThrow(/whole number/);
  });
});

// Runs first: the global tracer provider can be set once per process.
describe("without OTEL_EXPORTER_OTLP_ENDPOINT", () => {
  it("registers no provider: spans are the API's non-recording no-ops and nothing is propagated", async () => {
    const tracing = await startTracing("test", tracingConfig({}));
    expect(tracing.enabled).toBe(false);
    expect(tracingEnabled()).toBe(false);
    const span = await inSpan("admission Thing", { kind: SpanKind.SERVER }, (s) => {
      expect(traceparentOf()).toBeUndefined();
      const carrier: Record<string, string> = {};
      propagation.inject(trace.setSpan(contextFromTraceparent(undefined), s), carrier);
      expect(carrier).toEqual({});
      return Promise.resolve(s);
    });
    expect(span.isRecording()).toBe(false);
    expect(trace.getTracer("x").startSpan("y").isRecording()).toBe(false);
    await tracing.shutdown();
  });
});

describe("with OTEL_EXPORTER_OTLP_ENDPOINT", () => {
  it("exports spans over OTLP/HTTP with their service name, parent links and W3C propagation", async () => {
    const r = await receiver();
    server = r.server;
    const tracing = await startTracing(
      "crd-hook",
      tracingConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: r.url }),
    );
    expect(tracing.enabled).toBe(true);
    expect(tracingEnabled()).toBe(true);
    let remote = "";
    await inSpan("outer", { kind: SpanKind.SERVER }, async () => {
      remote = traceparentOf() ?? "";
      await inSpan("inner", { attributes: { "kubeplus.helm.action": "install" } }, () =>
        Promise.resolve(),
      );
    });
    expect(remote).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    // A span in another process, parented by the traceparent the first one handed over.
    await inSpan("remote child", { parent: contextFromTraceparent(remote) }, () =>
      Promise.resolve(),
    );
    await expect(inSpan("failing", {}, () => Promise.reject(new Error("boom")))).rejects.toThrow(
      "boom",
    );
    await tracing.shutdown();

    expectExported(r.spans, remote);
  });
});
