import { describe, expect, it } from "vitest";
import { quotaFitWarnings } from "./quota-fit.js";

const deployment = (replicas: number, resources?: object) => ({
  kind: "Deployment",
  spec: {
    replicas,
    template: { spec: { containers: [{ name: "c", ...(resources ? { resources } : {}) }] } },
  },
});

describe("quotaFitWarnings", () => {
  it("warns about the walkthrough's quota: two pods of podconfig's 100m cannot fit in 100m", () => {
    const warnings = quotaFitWarnings(
      [deployment(1), deployment(1), { kind: "Service" }],
      {
        "requests.cpu": "100m",
        "requests.memory": "2Gi",
        "limits.cpu": "1",
        "limits.memory": "4Gi",
      },
      { requests: { cpu: "100m", memory: "1Gi" }, limits: { cpu: "200m", memory: "2Gi" } },
    );
    expect(warnings).toEqual([
      "spec.respolicy.spec.policy.quota.requests.cpu: the chart's 2 pod(s) need 200m CPU with their default values (containers without their own requests get podconfig's), more than the quota's 100m; instances would not start all their pods: raise the quota or lower podconfig",
    ]);
  });

  it("counts replicas and containers' own resources, and stays quiet when they fit", () => {
    const objects = [
      deployment(3, { requests: { cpu: "250m" } }),
      { kind: "Pod", spec: { containers: [{}] } },
    ];
    const podconfig = { requests: { cpu: "100m" } };
    expect(quotaFitWarnings(objects, { "requests.cpu": "850m" }, podconfig)).toEqual([]);
    expect(quotaFitWarnings(objects, { "requests.cpu": "800m" }, podconfig)).toHaveLength(1);
    expect(quotaFitWarnings(objects, undefined, podconfig)).toEqual([]);
  });
});
