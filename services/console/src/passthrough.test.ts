import { describe, expect, it } from "vitest";
import { decidePassthrough, safeResponseType } from "./passthrough.js";

describe("decidePassthrough", () => {
  it("passes the apiserver's resource paths with their query", () => {
    expect(
      decidePassthrough(
        "GET",
        "/apis/platformapi.kubeplus/v1alpha1/namespaces/a/helloworldservices",
        "watch=true&resourceVersion=5",
        undefined,
      ),
    ).toEqual({
      pass: true,
      path: "/apis/platformapi.kubeplus/v1alpha1/namespaces/a/helloworldservices?watch=true&resourceVersion=5",
    });
    expect(
      decidePassthrough("GET", "/api/v1/namespaces/a/pods/p/log", "follow=true", undefined).pass,
    ).toBe(true);
    expect(
      decidePassthrough("GET", "/openapi/v3/apis/platformapi.kubeplus/v1alpha1", "", undefined)
        .pass,
    ).toBe(true);
    expect(decidePassthrough("DELETE", "/apis/g/v1/namespaces/a/xs/y", "", undefined).pass).toBe(
      true,
    );
    expect(
      decidePassthrough("PATCH", "/apis/g/v1/namespaces/a/xs/y", "", "application/merge-patch+json")
        .pass,
    ).toBe(true);
  });

  it.each([
    ["GET", "/api/v1/namespaces/a/services/web:80/proxy/", 403, /'proxy'/],
    ["GET", "/api/v1/namespaces/a/pods/p/proxy", 403, /'proxy'/],
    ["POST", "/api/v1/namespaces/a/pods/p/exec", 403, /'exec'/],
    ["GET", "/api/v1/namespaces/a/pods/p/attach", 403, /'attach'/],
    ["POST", "/api/v1/namespaces/a/pods/p/portforward", 403, /'portforward'/],
    ["GET", "/api/v1/namespaces/a/pods/p%2Fproxy", 400, /percent-encoded/],
    ["GET", "/api/v1/namespaces/a/services/x/%70roxy", 400, /percent-encoded/],
    ["GET", "/api/v1/namespaces/a/../../metrics", 400, /'\.\.'/],
    ["GET", "/api//v1", 400, /empty/],
    ["GET", "/metrics", 404, /only the apiserver's/],
    ["GET", "/logs/", 404, /only the apiserver's/],
    ["OPTIONS", "/api/v1", 405, /OPTIONS/],
    ["POST", "/apis/g/v1/namespaces/a/xs", 415, /got 'text\/plain'/],
  ])("refuses %s %s with %i", (method, path, status, message) => {
    const contentType = method === "POST" ? "text/plain" : undefined;
    const decision = decidePassthrough(method, path, "", contentType);
    expect(decision.pass).toBe(false);
    if (!decision.pass) {
      expect(decision.status).toBe(status);
      expect(decision.message).toMatch(message);
    }
  });

  it("refuses a body without a content type", () => {
    expect(decidePassthrough("PUT", "/apis/g/v1/namespaces/a/xs/y", "", undefined)).toMatchObject({
      status: 415,
    });
  });
});

describe("safeResponseType", () => {
  it("keeps JSON and plain text, and turns anything else into opaque bytes", () => {
    expect(safeResponseType("application/json")).toBe("application/json");
    expect(safeResponseType("text/plain; charset=utf-8")).toBe("text/plain; charset=utf-8");
    expect(safeResponseType("application/apply-patch+json")).toBe("application/apply-patch+json");
    expect(safeResponseType("text/html; charset=utf-8")).toBe("application/octet-stream");
    expect(safeResponseType("image/svg+xml")).toBe("application/octet-stream");
    expect(safeResponseType(undefined)).toBe("application/octet-stream");
  });
});
