import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createLogger, ServiceMetrics } from "@kubeplus/runtime";
import type { AdmitResult } from "./admission/admit.js";
import type { AdmissionRequest } from "./admission/review.js";
import { createApp, type Handlers } from "./server.js";

let server: Server | undefined;
afterEach(() => {
  server?.close();
});

async function serve(handlers: Partial<Handlers>, metrics: ServiceMetrics): Promise<string> {
  const app = createApp(
    {
      validate: () => Promise.resolve(allow("x")),
      mutate: () => allow("x"),
      afterAdmit: () => undefined,
      ready: () => true,
      ...handlers,
    },
    {
      deadlineMs: 50,
      log: createLogger({ service: "test", level: "silent" }),
      metrics: metrics.admission,
    },
  );
  const started = app.listen(0, "127.0.0.1");
  server = started;
  await new Promise<void>((resolve) => started.once("listening", resolve));
  return `http://127.0.0.1:${String((started.address() as AddressInfo).port)}`;
}

const allow = (uid: string): AdmitResult => ({ response: { uid, allowed: true } });

function review(uid: string, kind: string, operation: AdmissionRequest["operation"]): object {
  return {
    apiVersion: "admission.k8s.io/v1",
    kind: "AdmissionReview",
    request: {
      uid,
      kind: { group: "platformapi.kubeplus", version: "v1alpha1", kind },
      resource: { group: "platformapi.kubeplus", version: "v1alpha1", resource: "x" },
      operation,
      name: "tenant-a",
      namespace: "default",
      userInfo: {},
      object: {},
    },
  };
}

const post = (url: string, body: object): Promise<Response> =>
  fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });

describe("the admission adapter's metrics", () => {
  it("counts each review's verdict by webhook, kind and operation, and times it", async () => {
    const metrics = new ServiceMetrics({ defaultMetrics: false });
    const url = await serve(
      {
        validate: (req) =>
          Promise.resolve(
            req.name === "tenant-a" && req.operation === "UPDATE"
              ? { response: { uid: req.uid, allowed: false, status: { code: 422, message: "no" } } }
              : allow(req.uid),
          ),
        mutate: (req) => {
          if (req.operation === "DELETE") throw new Error("boom");
          return allow(req.uid);
        },
      },
      metrics,
    );
    await post(`${url}/validate`, review("1", "HelloWorldService", "CREATE"));
    await post(`${url}/validate`, review("2", "HelloWorldService", "UPDATE"));
    await post(`${url}/mutate`, review("3", "HelloWorldService", "CREATE"));
    const failed = await post(`${url}/mutate`, review("4", "HelloWorldService", "DELETE"));
    expect(
      ((await failed.json()) as { response: { status: { code: number } } }).response.status.code,
    ).toBe(500);
    const text = await metrics.exposition();
    const verdict = (webhook: string, operation: string, v: string): string =>
      `kubeplus_admission_verdicts_total{webhook="${webhook}",kind="HelloWorldService",operation="${operation}",verdict="${v}"} 1`;
    expect(text).toContain(verdict("validate", "CREATE", "allowed"));
    expect(text).toContain(verdict("validate", "UPDATE", "denied"));
    expect(text).toContain(verdict("mutate", "CREATE", "allowed"));
    expect(text).toContain(verdict("mutate", "DELETE", "error"));
    expect(text).toContain(
      'kubeplus_admission_request_duration_seconds_count{webhook="validate",kind="HelloWorldService"} 2',
    );
    // Bounded labels: never the instance's name or namespace.
    expect(text).not.toContain("tenant-a");
  });

  it("records a review that missed its deadline as an error", async () => {
    const metrics = new ServiceMetrics({ defaultMetrics: false });
    const url = await serve(
      { validate: () => new Promise((resolve) => setTimeout(() => resolve(allow("5")), 200)) },
      metrics,
    );
    await post(`${url}/validate`, review("5", "HelloWorldService", "CREATE"));
    const text = await metrics.exposition();
    expect(text).toContain(
      'kubeplus_admission_verdicts_total{webhook="validate",kind="HelloWorldService",operation="CREATE",verdict="error"} 1',
    );
    expect(text).toMatch(
      /kubeplus_admission_request_duration_seconds_bucket\{le="0\.025",webhook="validate",kind="HelloWorldService"\} 0\n/,
    );
  });
});
