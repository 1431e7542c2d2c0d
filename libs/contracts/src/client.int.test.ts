import type { NatsConnection } from "@nats-io/nats-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clusterState, connectNatsAs } from "@kubeplus/testing";
import { publish, request, serve, subscribe, type RequestMeta } from "./client.js";
import { ContractError, ErrorCode } from "./errors.js";
import type { InstanceAdmitted } from "./generated/instance-admitted.js";

// Each side as the identity whose permissions fit it: the helmer serves renders, crd-hook asks for them and
// publishes admissions, the provider's tools read events.
let helmer: NatsConnection;
let crdHook: NatsConnection;
let provider: NatsConnection;
beforeAll(async () => {
  helmer = await connectNatsAs(clusterState(), "helmer");
  crdHook = await connectNatsAs(clusterState(), "crd-hook");
  provider = await connectNatsAs(clusterState(), "provider");
});
afterAll(async () => {
  await Promise.all([helmer.close(), crdHook.close(), provider.close()]);
});

const goodReply = {
  version: 1 as const,
  chart: { name: "hello", version: "0.1.0", digest: "sha256:abc" },
  objects: [{ kind: "Service" }],
  values: { greeting: "hi" },
};

describe("request/reply over a real nats-server", () => {
  it("round-trips a validated request and reply", async () => {
    const sub = serve(helmer, "HelmerRender", (req) =>
      Promise.resolve({ ...goodReply, notes: req.chartName }),
    );
    await helmer.flush(); // served at the server before crd-hook asks
    try {
      const reply = await request(
        crdHook,
        "HelmerRender",
        { version: 1, chartURL: "https://x/c.tgz", chartName: "c" },
        { timeoutMs: 2000 },
      );
      expect(reply).toEqual({ ...goodReply, notes: "c" });
    } finally {
      sub.unsubscribe();
    }
  });

  it("hands the server the name the caller claims, when it gives one", async () => {
    const seen: RequestMeta[] = [];
    const sub = serve(helmer, "HelmerRender", (_req, meta) => {
      seen.push(meta);
      return Promise.resolve(goodReply);
    });
    await helmer.flush(); // served at the server before crd-hook asks
    try {
      const payload = { version: 1 as const, chartURL: "https://x/c.tgz", chartName: "c" };
      await request(crdHook, "HelmerRender", payload, { timeoutMs: 2000, requester: "crd-hook" });
      await request(crdHook, "HelmerRender", payload, { timeoutMs: 2000 });
      expect(seen.map((m) => m.claimedRequester)).toEqual(["crd-hook", undefined]);
      // The caller's connection, from its reply inbox: the same for both requests of one connection.
      expect(seen[0]?.caller).toMatch(/^_INBOX\.crd-hook\./);
      expect(seen[1]?.caller).toBe(seen[0]?.caller);
    } finally {
      sub.unsubscribe();
    }
  });

  it("carries a handler's typed error back to the caller", async () => {
    const sub = serve(helmer, "HelmerRender", () =>
      Promise.reject(new ContractError(ErrorCode.ChartUnavailable, "GET https://x/c.tgz: 404")),
    );
    await helmer.flush(); // served at the server before crd-hook asks
    try {
      const failing = request(
        crdHook,
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
      crdHook,
      "HelmerRender",
      { version: 1, chartURL: "https://x/c.tgz", chartName: "c" },
      { timeoutMs: 5000 },
    );
    await expect(failing).rejects.toMatchObject({ code: "Unavailable" });
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it("answers BadRequest, listing the problems, to a payload that breaks the schema", async () => {
    const sub = serve(helmer, "HelmerRender", () => Promise.resolve(goodReply));
    await helmer.flush(); // served at the server before crd-hook asks
    try {
      const raw = await crdHook.request(
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
    const sub = subscribe(provider, "InstanceAdmitted", (e) => {
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
    await provider.flush(); // the subscription is in place at the server before crd-hook publishes
    publish(crdHook, "InstanceAdmitted", event);
    await crdHook.flush();
    await new Promise((r) => setTimeout(r, 100));
    sub.unsubscribe();
    expect(received).toEqual([event]);
  });

  it("refuses to publish an event that breaks its schema", () => {
    expect(() => {
      publish(crdHook, "InstanceAdmitted", { version: 1 } as InstanceAdmitted);
    }).toThrow(ContractError);
  });
});
