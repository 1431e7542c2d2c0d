import { describe, expect, it } from "vitest";
import { formatAudit, summarizeAudit } from "./audit.js";

const event = (e: Record<string, unknown>): string =>
  JSON.stringify({ stage: "ResponseComplete", verb: "get", ...e });

const log = [
  event({ requestURI: "/api/v1/namespaces/a/pods", userAgent: "kubectl/v1.35.4 (linux/amd64)" }),
  "not json",
  event({ stage: "ResponseStarted", requestURI: "/apis/x/stream-0", userAgent: "Helm/4.3.1" }),
  event({
    verb: "create",
    requestURI: "/apis/platformapi.kubeplus/v1alpha1/namespaces/kp/benchhelloservices",
    userAgent: "node-fetch/1.0",
    objectRef: { resource: "benchhelloservices", name: "stream-0" },
  }),
  event({ requestURI: "/version", userAgent: "Helm/4.3.1" }),
  event({ requestURI: "/version", userAgent: "Helm/4.3.1" }),
  event({
    verb: "patch",
    requestURI: "/apis/x/v1/namespaces/kp/things/stream-0/status",
    objectRef: { resource: "things", subresource: "status" },
  }),
  event({
    verb: "list",
    requestURI: "/api/v1/secrets?watch=true",
    userAgent: "Helm/4.3.1",
    objectRef: { resource: "secrets" },
  }),
];

describe("summarizeAudit", () => {
  it("counts completed requests by client, verb and resource, from the first that matches", () => {
    const s = summarizeAudit(log, "stream-");
    expect(s.requests).toBe(5);
    expect(s.byClient).toEqual([
      { client: "Helm", count: 3 },
      { client: "node-fetch", count: 1 },
      { client: "(none)", count: 1 },
    ]);
    expect(s.rows[0]).toEqual({ client: "Helm", verb: "get", resource: "/version", count: 2 });
    expect(s.rows).toContainEqual({
      client: "(none)",
      verb: "patch",
      resource: "things/status",
      count: 1,
    });
    expect(s.rows).toContainEqual({ client: "Helm", verb: "watch", resource: "secrets", count: 1 });
    expect(summarizeAudit(log).requests).toBe(6);
  });

  it("prints per-item figures", () => {
    const text = formatAudit(summarizeAudit(log, "stream-"), 2);
    expect(text).toContain("5 requests, per 2");
    expect(text).toMatch(/^1\.00\s+Helm\s+get\s+\/version$/m);
  });
});
