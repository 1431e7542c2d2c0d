import { propagation, trace } from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { beforeAll, describe, expect, it } from "vitest";
import { reconcileSpan, type TracedObject } from "./trace.js";

const TP = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

const object = (
  ready: boolean,
  observed: number,
  annotations: Record<string, string> = {},
): TracedObject => ({
  metadata: { generation: 2, annotations },
  status: {
    observedGeneration: observed,
    conditions: [
      {
        type: "Ready",
        status: ready ? ("True" as const) : ("False" as const),
        reason: "x",
        message: "",
        lastTransitionTime: "",
      },
    ],
  },
});

// What startTracing registers with an endpoint (without one, no context is read from the object at all).
beforeAll(() => {
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
});

describe("the span of a reconcile", () => {
  it("is the child of the admission that changed the spec until the object is Ready at that generation", () => {
    const { parent, links } = reconcileSpan(object(true, 1, { "kubeplus.dev/traceparent": TP }));
    expect(trace.getSpanContext(parent)).toMatchObject({
      traceId: "0af7651916cd43dd8448eb211c80319c",
      spanId: "b7ad6b7169203331",
      isRemote: true,
    });
    expect(links).toEqual([]);
    expect(
      trace.getSpanContext(
        reconcileSpan(object(false, 2, { "kubeplus.dev/traceparent": TP })).parent,
      )?.spanId,
    ).toBe("b7ad6b7169203331");
  });

  it("starts a trace of its own once it is, linked to that admission", () => {
    const { parent, links } = reconcileSpan(object(true, 2, { "kubeplus.dev/traceparent": TP }));
    expect(trace.getSpanContext(parent)).toBeUndefined();
    expect(links.map((l) => l.context.spanId)).toEqual(["b7ad6b7169203331"]);
  });

  it("starts a trace of its own without a recorded admission (tracing was off, or an older object)", () => {
    const { parent, links } = reconcileSpan(object(false, 1));
    expect(trace.getSpanContext(parent)).toBeUndefined();
    expect(links).toEqual([]);
  });
});
