import { describe, expect, it } from "vitest";
import type { Instance, ResourceComposition } from "@kubeplus/api";
import { decideChartUpgrade, fleetProgress, incompatibility, PIN_ANNOTATION } from "./fleet.js";

const rc = {
  metadata: { name: "w" },
  spec: { upgrade: { failureBudget: 2 } },
} as unknown as ResourceComposition;

const inst = (status: Instance["status"], generation = 1): Instance => ({
  apiVersion: "platformapi.kubeplus/v1alpha1",
  kind: "WebAppService",
  metadata: { name: "i", namespace: "n", generation },
  spec: {},
  ...(status ? { status } : {}),
});
const pinned = (version: string): Instance => {
  const i = inst({ chart: { digest: "sha256:old" }, conditions: ready });
  i.metadata.annotations = { [PIN_ANNOTATION]: version };
  return i;
};
const ready = [
  { type: "Ready", status: "True" as const, reason: "Ready", message: "", lastTransitionTime: "" },
];

describe("fleet rollout", () => {
  it("lets instances go up to the in-flight limit, and none once the failure budget is spent", () => {
    const limits = { maxInFlight: 2, failureBudget: 1 };
    expect(decideChartUpgrade({ inFlight: 1, failed: 0, ...limits })).toBe("go");
    expect(decideChartUpgrade({ inFlight: 2, failed: 0, ...limits })).toBe("wait");
    expect(decideChartUpgrade({ inFlight: 0, failed: 1, ...limits })).toBe("halted");
  });

  it("counts upgraded, failed (same spec, rolled back) and pending instances", () => {
    const target = { name: "basicwebapp", version: "0.0.2", digest: "sha256:new" };
    const progress = fleetProgress(
      rc,
      target,
      [
        inst({ chart: { digest: "sha256:new" }, conditions: ready }),
        inst({
          chart: { digest: "sha256:old" },
          failedChart: { digest: "sha256:new", generation: 1 },
        }),
        // Failed on this chart, but its spec changed since: pending again.
        inst(
          { chart: { digest: "sha256:old" }, failedChart: { digest: "sha256:new", generation: 1 } },
          2,
        ),
        inst({ chart: { digest: "sha256:old" }, conditions: ready }),
        // Pinned to the version it runs: not moving, counted apart.
        pinned("0.0.1"),
        // Pinned to the composition's own version: nothing holds it.
        pinned("0.0.2"),
      ],
      1,
    );
    expect(progress).toEqual({
      chart: "basicwebapp-0.0.2",
      total: 6,
      upgraded: 1,
      failed: 1,
      pending: 3,
      pinned: 1,
      inFlight: 1,
      halted: false,
    });
  });
});

describe("incompatibility", () => {
  const gated = {
    ...rc,
    status: {
      compatibility: {
        chart: "c-2",
        digest: "sha256:2",
        checked: 2,
        incompatibleCount: 1,
        incompatible: [
          {
            namespace: "n",
            name: "i",
            problems: [{ path: "spec.a", kind: "removed", detail: "gone" }],
          },
        ],
      },
    },
  } as ResourceComposition;

  it("finds the problems the gate listed for this instance, against this very chart", () => {
    expect(incompatibility(gated, inst(undefined), "sha256:2")).toEqual([
      { path: "spec.a", kind: "removed", detail: "gone" },
    ]);
    expect(incompatibility(gated, inst(undefined), "sha256:3")).toBeUndefined();
    expect(
      incompatibility(
        gated,
        { ...inst(undefined), metadata: { name: "other", namespace: "n" } },
        "sha256:2",
      ),
    ).toBeUndefined();
    expect(incompatibility(rc, inst(undefined), "sha256:2")).toBeUndefined();
    expect(incompatibility(undefined, inst(undefined), "sha256:2")).toBeUndefined();
  });
});
