import { describe, expect, it } from "vitest";
import { quotaCoverageErrors } from "./quota-coverage.js";

const QUOTA = {
  "requests.cpu": "1",
  "requests.memory": "1Gi",
  "limits.cpu": "2",
  "limits.memory": "2Gi",
};
const deployment = (name: string, resources?: object, initContainers?: object[]) => ({
  kind: "Deployment",
  metadata: { name },
  spec: {
    template: {
      spec: {
        ...(initContainers ? { initContainers } : {}),
        containers: [{ name, ...(resources ? { resources } : {}) }],
      },
    },
  },
});

describe("quotaCoverageErrors", () => {
  it("refuses a quota without podconfig for a chart whose containers set no resources, naming each and the fix", () => {
    const errors = quotaCoverageErrors(
      [deployment("wordpress"), deployment("mysql"), { kind: "Service", metadata: { name: "x" } }],
      QUOTA,
      undefined,
    );
    expect(errors).toHaveLength(1);
    expect(errors[0]?.path).toBe("spec.respolicy.spec.policy.quota");
    expect(errors[0]?.detail).toContain(
      "Deployment/wordpress container wordpress (no requests.cpu, requests.memory, limits.cpu, limits.memory); Deployment/mysql container mysql (no requests.cpu, requests.memory, limits.cpu, limits.memory)",
    );
    expect(errors[0]?.detail).toContain(
      "Add spec.respolicy.spec.policy.podconfig with requests and limits",
    );
    expect(errors[0]?.detail).toContain("or put a LimitRange with defaults in the chart");
  });

  it("accepts containers covered by podconfig, by a LimitRange in the chart, or by their own resources", () => {
    const objects = [deployment("web"), deployment("db", { limits: { cpu: "1", memory: "1Gi" } })];
    expect(
      quotaCoverageErrors(objects, QUOTA, { limits: { cpu: "200m", memory: "256Mi" } }),
    ).toEqual([]);
    const limitRange = {
      kind: "LimitRange",
      metadata: { name: "defaults" },
      spec: { limits: [{ type: "Container", default: { cpu: "200m", memory: "128Mi" } }] },
    };
    expect(quotaCoverageErrors([...objects, limitRange], QUOTA, undefined)).toEqual([]);
    expect(quotaCoverageErrors(objects, undefined, undefined)).toEqual([]);
  });

  it("names only what is missing: requests alone leave the limits uncovered, init containers count too", () => {
    const errors = quotaCoverageErrors(
      [deployment("web", undefined, [{ name: "migrate" }])],
      QUOTA,
      { requests: { cpu: "100m", memory: "64Mi" } },
    );
    expect(errors[0]?.detail).toContain(
      "Deployment/web container migrate (no limits.cpu, limits.memory); Deployment/web container web (no limits.cpu, limits.memory)",
    );
  });

  it("leaves an incomplete quota to its own refusal (no ResourceQuota is made from fewer than four values)", () => {
    expect(quotaCoverageErrors([deployment("web")], { "requests.cpu": "1" }, undefined)).toEqual(
      [],
    );
  });
});
