import type { MsgHdrs, NatsConnection } from "@nats-io/nats-core";
import { context, propagation, ROOT_CONTEXT, trace, TraceFlags } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { describe, expect, it } from "vitest";
import { publish } from "./client.js";

/** A connection that records what it is asked to publish. */
function recordingConnection(): { nc: NatsConnection; sent: { headers?: MsgHdrs }[] } {
  const sent: { headers?: MsgHdrs }[] = [];
  const nc = {
    publish: (_subject: string, _data: Uint8Array, options?: { headers?: MsgHdrs }) => {
      sent.push(options ?? {});
    },
  } as unknown as NatsConnection;
  return { nc, sent };
}

const event = {
  version: 1 as const,
  operation: "CREATE" as const,
  group: "platformapi.kubeplus",
  kind: "HelloWorldService",
  namespace: "ns",
  name: "n",
};
const TRACE = "0af7651916cd43dd8448eb211c80319c";
const SPAN = "b7ad6b7169203331";

// In this order: the global propagator and context manager can be set once per process.
describe("trace context in NATS headers", () => {
  it("adds no header while no service registered the SDK (tracing off)", () => {
    const { nc, sent } = recordingConnection();
    publish(nc, "InstanceAdmitted", event);
    expect(sent).toEqual([{}]);
  });

  it("carries the active span's traceparent once tracing is on", () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    const { nc, sent } = recordingConnection();
    const active = trace.setSpan(
      ROOT_CONTEXT,
      trace.wrapSpanContext({ traceId: TRACE, spanId: SPAN, traceFlags: TraceFlags.SAMPLED }),
    );
    context.with(active, () => {
      publish(nc, "InstanceAdmitted", event);
    });
    // Without a tracer provider the publication's span is the API's no-op, carrying its parent's context.
    expect(sent[0]?.headers?.get("traceparent")).toBe(`00-${TRACE}-${SPAN}-01`);
  });
});
