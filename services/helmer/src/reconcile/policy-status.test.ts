import { describe, expect, it } from "vitest";
import type { ResourceComposition, ResourcePolicy } from "@kubeplus/api";
import { wordpressComposition } from "@kubeplus/api/fixtures";
import { decidePolicyStatus, policyStatus } from "./policy-status.js";

const rc = (ready: "True" | "False", reason: string): ResourceComposition =>
  wordpressComposition({
    uid: "rc-uid",
    chartURL: "https://charts.invalid/wp-0.1.0.tgz",
    chartName: "wp",
    status: {
      conditions: [
        {
          type: "Ready",
          status: ready,
          reason,
          message: "",
          lastTransitionTime: "2026-01-01T00:00:00Z",
        },
      ],
    },
  });

const policy = (owned: boolean): ResourcePolicy => ({
  apiVersion: "workflows.kubeplus/v1alpha1",
  kind: "ResourcePolicy",
  metadata: {
    name: "wp-policy",
    namespace: "kubeplus",
    generation: 3,
    ...(owned
      ? {
          ownerReferences: [
            {
              apiVersion: "workflows.kubeplus/v1alpha1",
              kind: "ResourceComposition",
              name: "wp",
              uid: "rc-uid",
            },
          ],
        }
      : {}),
  },
  spec: {
    resource: { kind: "WordpressService", group: "platformapi.kubeplus", version: "v1alpha1" },
  },
});

describe("decidePolicyStatus", () => {
  it("says the embedded policy waits for its composition when that is not Ready, naming the reason", () => {
    expect(
      decidePolicyStatus("ResourcePolicy", policy(true), [rc("False", "ChartUnavailable")]),
    ).toEqual({
      status: "False",
      reason: "CompositionNotReady",
      message:
        "ResourceComposition wp is not Ready (ChartUnavailable): WordpressService instances cannot be created until it is; see kubectl describe resourcecomposition wp",
    });
  });

  it("is Applied once the owning composition is Ready, and NotEmbedded for a copy made on its own", () => {
    expect(
      decidePolicyStatus("ResourcePolicy", policy(true), [rc("True", "Registered")]).reason,
    ).toBe("Applied");
    expect(
      decidePolicyStatus("ResourcePolicy", policy(false), [rc("True", "Registered")]).reason,
    ).toBe("NotEmbedded");
    expect(decidePolicyStatus("ResourceMonitor", policy(false), []).reason).toBe(
      "KindNotRegistered",
    );
  });
});

describe("policyStatus", () => {
  it("writes observedGeneration with the condition, and nothing when the object already says it", () => {
    const verdict = decidePolicyStatus("ResourcePolicy", policy(true), [rc("True", "Registered")]);
    const first = policyStatus(policy(true), verdict, new Date("2026-02-01T00:00:00Z"));
    expect(first).toMatchObject({
      observedGeneration: 3,
      conditions: [{ type: "Ready", status: "True", reason: "Applied", observedGeneration: 3 }],
    });
    expect(policyStatus({ ...policy(true), status: first }, verdict, new Date())).toBeUndefined();
  });
});
