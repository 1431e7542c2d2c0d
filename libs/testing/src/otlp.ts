import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { gunzipSync } from "node:zlib";

/** One span as an OTLP/HTTP JSON export carries it, with its resource's `service.name`. */
export interface ReceivedSpan {
  readonly service: string;
  readonly name: string;
  /** OTLP's SpanKind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  readonly kind: number;
  readonly traceId: string;
  readonly spanId: string;
  /** Empty or absent for a root span. */
  readonly parentSpanId?: string;
  readonly attributes?: readonly { key: string; value: Record<string, unknown> }[];
  readonly links?: readonly { traceId: string; spanId: string }[];
  readonly status?: { code?: number; message?: string };
}

export interface OtlpReceiver {
  /** The base URL to give a service as OTEL_EXPORTER_OTLP_ENDPOINT. */
  readonly url: string;
  /** Every span received so far. */
  spans(): readonly ReceivedSpan[];
  close(): Promise<void>;
}

interface ExportRequest {
  resourceSpans?: {
    resource?: { attributes?: { key: string; value: { stringValue?: string } }[] };
    scopeSpans?: { spans?: Omit<ReceivedSpan, "service">[] }[];
  }[];
}

/** A string attribute of a span, or undefined. */
export function spanAttribute(span: ReceivedSpan, key: string): string | undefined {
  const value = span.attributes?.find((a) => a.key === key)?.value;
  return typeof value?.stringValue === "string" ? value.stringValue : undefined;
}

/** The spans of one export request, each with its resource's service name. */
function spansOf(doc: ExportRequest): ReceivedSpan[] {
  return (doc.resourceSpans ?? []).flatMap((rs) => {
    const service =
      rs.resource?.attributes?.find((a) => a.key === "service.name")?.value.stringValue ?? "";
    return (rs.scopeSpans ?? []).flatMap((ss) =>
      (ss.spans ?? []).map((span) => ({ ...span, service })),
    );
  });
}

/**
 * An in-process OTLP/HTTP collector on 127.0.0.1 that keeps the spans it is sent (the JSON encoding, which the
 * services' exporter uses; gzip accepted). POST /v1/traces answers 200 with an empty ExportTraceServiceResponse.
 */
export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const received: ReceivedSpan[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (req.method !== "POST" || req.url !== "/v1/traces") {
        res.writeHead(404).end();
        return;
      }
      try {
        let body = Buffer.concat(chunks);
        if (req.headers["content-encoding"] === "gzip") body = gunzipSync(body);
        received.push(...spansOf(JSON.parse(body.toString()) as ExportRequest));
        res.writeHead(200, { "content-type": "application/json" }).end("{}");
      } catch (err) {
        res.writeHead(400).end(String(err));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${String(port)}`,
    spans: () => [...received],
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
