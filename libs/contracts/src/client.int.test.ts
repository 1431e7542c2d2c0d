import type { NatsConnection } from "@nats-io/nats-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectNats } from "@kubeplus/runtime";
import { clusterState } from "@kubeplus/testing";
import { publish, request, serve, subscribe } from "./client.js";
import { ContractError, ErrorCode } from "./errors.js";
import type { InstanceAdmitted } from "./generated/instance-admitted.js";

let nc: NatsConnection;
beforeAll(async () => {
  nc = await connectNats({ servers: clusterState().natsUrl, name: "contracts-test" });
});
afterAll(async () => {
  await nc.close();
});

const goodReply = {
  version: 1 as const,
  chart: { name: "hello", version: "0.1.0", digest: "sha256:abc" },
  objects: [{ kind: "Service" }],
  values: { greeting: "hi" },
};

describe("request/reply over a real nats-server", () => {
  it("round-trips a validated request and reply", async () => {
    const sub = serve(nc, "HelmerRender", (req) =>
      Promise.resolve({ ...goodReply, notes: req.chartName }),
    );
    try {
      const reply = await request(
        nc,
        "HelmerRender",
        { version: 1, chartURL: "https://x/c.tgz", chartName: "c" },
        { timeoutMs: 2000 },
      );
      expect(reply).toEqual({ ...goodReply, notes: "c" });
    } finally {
      sub.unsubscribe();
    }
  });

  it("carries a handler's typed error back to the caller", async () => {
    const sub = serve(nc, "HelmerRender", () =>
      Promise.reject(new ContractError(ErrorCode.ChartUnavailable, "GET https://x/c.tgz: 404")),
    );
    try {
      const failing = request(
        nc,
        "HelmerRender",
        { version: 1, chartURL: "https://x/c.tgz", chartName: "c" },
        { timeoutMs: 2000 },
      );
      await expect(failing).rejects.toMatchObject({
        code: "ChartUnavailable",
        message: "GET https://x/c.tgz: 404",
      });
    } finally {
      sub.unsubscribe();
    }
  });

  it("says Unavailable at once when nobody serves the subject", async () => {
    const started = Date.now();
    const failing = request(
      nc,
      "HelmerRender",
      { version: 1, chartURL: "https://x/c.tgz", chartName: "c" },
      { timeoutMs: 5000 },
    );
    await expect(failing).rejects.toMatchObject({ code: "Unavailable" });
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it("answers BadRequest, listing the problems, to a payload that breaks the schema", async () => {
    const sub = serve(nc, "HelmerRender", () => Promise.resolve(goodReply));
    try {
      const raw = await nc.request(
        "kubeplus.v1.helmer.render",
        new TextEncoder().encode(JSON.stringify({ version: 1, chartURL: "" })),
        { timeout: 2000 },
      );
      const envelope = JSON.parse(new TextDecoder().decode(raw.data)) as {
        ok: boolean;
        error: { code: string; message: string };
      };
      expect(envelope.ok).toBe(false);
      expect(envelope.error.code).toBe("BadRequest");
      expect(envelope.error.message).toMatch(/chartName/);
      expect(envelope.error.message).toMatch(/chartURL must NOT have fewer than 1 characters/);
    } finally {
      sub.unsubscribe();
    }
  });
});

describe("events", () => {
  it("delivers a published event to subscribers with its typed payload", async () => {
    const received: InstanceAdmitted[] = [];
    const sub = subscribe(nc, "InstanceAdmitted", (e) => {
      received.push(e);
    });
    const event: InstanceAdmitted = {
      version: 1,
      operation: "CREATE",
      group: "platformapi.kubeplus",
      kind: "WordpressService",
      namespace: "default",
      name: "wp-tenant1",
      user: "provider",
    };
    publish(nc, "InstanceAdmitted", event);
    await nc.flush();
    await new Promise((r) => setTimeout(r, 100));
    sub.unsubscribe();
    expect(received).toEqual([event]);
  });

  it("refuses to publish an event that breaks its schema", () => {
    expect(() => {
      publish(nc, "InstanceAdmitted", { version: 1 } as InstanceAdmitted);
    }).toThrow(ContractError);
  });
});
