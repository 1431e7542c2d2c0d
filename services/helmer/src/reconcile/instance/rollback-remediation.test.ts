import { describe, expect, it } from "vitest";
import { chartOf, InstanceWorld } from "../../testing/instance-world.js";

describe("rollback remediation of a failed upgrade", () => {
  it.each([
    [
      "rolled back to the last good revision, which keeps serving",
      false,
      ["upgrade 2.0.0", "rollback to 1"],
      "(rolled back to revision 1)",
      "deployed",
    ],
    [
      "the rollback fails too: both errors said",
      true,
      ["upgrade 2.0.0", "rollback failed"],
      "(rollback failed too: helm: rollback: no space left on device)",
      "failed",
    ],
  ])("%s", async (_what, rollbackFails, calls, suffix, latestStatus) => {
    const w = new InstanceWorld();
    await w.settle();
    w.calls.length = 0;
    w.chart = chartOf("2.0.0");
    w.helmFails = () => "helm: UPGRADE FAILED: post-upgrade hooks failed";
    w.rollbackFails = rollbackFails;
    const result = await w.reconcile();
    expect(w.calls).toEqual(calls);
    expect(w.latest()?.status).toBe(latestStatus);
    if (!rollbackFails) expect(w.latest()).toMatchObject({ chart: "wordpress-chart-1.0.0" });
    expect(w.condition()).toMatchObject({ status: "False", reason: "UpgradeFailed" });
    expect(w.condition()?.message).toBe(
      `helm: UPGRADE FAILED: post-upgrade hooks failed ${suffix}`,
    );
    expect(w.condition("Stalled")?.status).toBe("True");
    // Remembered, so that the fleet counts it and only a change retries it; the slot is given back.
    expect(w.instance.status?.failedChart).toEqual({
      ref: "wordpress-chart-2.0.0",
      digest: "sha256:2.0.0",
      generation: 1,
    });
    expect(w.slotsReleased).toBe(1);
    expect(result.requeueAfterMs).toBe(60_000);
    expect(w.events.filter((e) => e.subject === "InstanceFailed")).toHaveLength(1);
  });
});
