import { describe, expect, it } from "vitest";
import { chartOf, InstanceWorld } from "../../testing/instance-world.js";

/** An instance installed and Ready on chart 1.0.0. */
async function readyWorld(): Promise<InstanceWorld> {
  const w = new InstanceWorld();
  await w.settle();
  expect(w.condition()).toMatchObject({ status: "True", reason: "Ready" });
  w.calls.length = 0;
  w.events.length = 0;
  return w;
}

describe("upgrade", () => {
  it("upgrades to a changed spec: Ready goes False until the new revision is ready", async () => {
    const w = await readyWorld();
    w.setSpec({ greeting: "bonjour" });
    w.notReady = [
      { id: "Deployment/app", status: "InProgress", message: "1 old replica pending termination" },
    ];
    await w.reconcile();
    expect(w.calls).toEqual(["upgrade 1.0.0"]);
    expect(w.latest()).toMatchObject({
      revision: 2,
      status: "deployed",
      values: { greeting: "bonjour" },
    });
    expect(w.condition()).toMatchObject({
      status: "False",
      reason: "Progressing",
      observedGeneration: 2,
    });
    w.notReady = [];
    await w.reconcile();
    expect(w.condition()).toMatchObject({ status: "True", observedGeneration: 2 });
    expect(w.slotsReleased).toBe(0); // a spec change takes no fleet slot
  });

  it.each([
    ["a free slot: upgrades at once and gives the slot back", "go", ["upgrade 2.0.0"], "Ready", 1],
    ["no free slot: holds, Ready kept, looks again soon", "wait", [], "UpgradePending", 0],
    ["the fleet halted: holds until the composition changes", "halted", [], "UpgradeHalted", 0],
    ["its pin holds it: stays on its chart", "pinned", [], "Pinned", 0],
    ["the rollout is paused: holds until resumed", "paused", [], "UpgradePaused", 0],
    ["its wave is not open: holds until it opens", "wave", [], "UpgradePending", 0],
  ] as const)("a new chart for the fleet, %s", async (_what, decision, calls, reason, released) => {
    const w = await readyWorld();
    w.chart = chartOf("2.0.0");
    w.fleet = decision;
    const result = await w.reconcile();
    expect(w.calls).toEqual(calls);
    expect(w.slotsReleased).toBe(released);
    if (decision === "go") {
      expect(w.condition()).toMatchObject({ status: "True", reason: "Ready" });
      expect(w.instance.status?.chart?.ref).toBe("wordpress-chart-2.0.0");
      return;
    }
    // The release still serves this very spec on the old chart: Ready stays, Reconciling says what it waits for.
    expect(w.condition()).toMatchObject({ status: "True", reason: "Ready" });
    expect(w.condition("Reconciling")).toMatchObject({ status: "True", reason });
    expect(w.instance.status?.chart?.ref).toBe("wordpress-chart-1.0.0");
    expect(result.requeueAfterMs).toBe(decision === "wait" ? 2_000 : 60_000);
  });

  it("holds an instance the composition's gate found incompatible with the new chart, naming its fields", async () => {
    const w = await readyWorld();
    w.chart = chartOf("2.0.0");
    w.fleet = "incompatible";
    w.rc.status = {
      ...w.rc.status,
      compatibility: {
        chart: "wordpress-chart-2.0.0",
        digest: w.chart.digest,
        checked: 1,
        incompatibleCount: 1,
        incompatible: [
          {
            namespace: w.instance.metadata.namespace ?? "",
            name: w.instance.metadata.name ?? "",
            problems: [{ path: "spec.replicas", kind: "invalid", detail: "must be <= 3 (now 5)" }],
          },
        ],
      },
    };
    const result = await w.reconcile();
    expect(w.calls).toEqual([]);
    expect(w.slotsReleased).toBe(0);
    expect(w.condition()).toMatchObject({ status: "True", reason: "Ready" });
    expect(w.condition("Reconciling")).toMatchObject({
      status: "True",
      reason: "UpgradeIncompatible",
      message:
        "not moving to chart wordpress-chart-2.0.0: this instance's values do not fit it (spec.replicas: must be <= 3 (now 5)); change them to move",
    });
    expect(w.instance.status?.chart?.ref).toBe("wordpress-chart-1.0.0");
    expect(result.requeueAfterMs).toBe(60_000);
  });

  it("while the composition's gate holds a chart back, changes nothing and keeps Ready, saying why", async () => {
    const w = await readyWorld();
    w.chart = chartOf("2.0.0");
    w.rc.status = {
      ...w.rc.status,
      conditions: (w.rc.status?.conditions ?? []).map((c) =>
        c.type === "Ready" ? { ...c, status: "False" as const, reason: "UpgradeBlocked" } : c,
      ),
      compatibility: {
        chart: "wordpress-chart-2.0.0",
        digest: w.chart.digest,
        checked: 3,
        incompatibleCount: 1,
      },
    };
    const result = await w.reconcile();
    expect(w.calls).toEqual([]);
    expect(w.condition()).toMatchObject({ status: "True", reason: "Ready" });
    expect(w.condition("Reconciling")).toMatchObject({
      status: "True",
      reason: "CompositionUpgradeBlocked",
      message: expect.stringMatching(
        /holds chart wordpress-chart-2\.0\.0 back: the values of 1 instance\(s\) do not fit it/,
      ) as unknown,
    });
    expect(result.requeueAfterMs).toBe(30_000);
  });

  it("resumes a held chart upgrade when a slot frees", async () => {
    const w = await readyWorld();
    w.chart = chartOf("2.0.0");
    w.fleet = "wait";
    await w.reconcile();
    await w.reconcile();
    expect(w.calls).toEqual([]);
    w.fleet = "go";
    await w.reconcile();
    expect(w.calls).toEqual(["upgrade 2.0.0"]);
    expect(w.slotsReleased).toBe(1);
    expect(w.condition()).toMatchObject({ status: "True", reason: "Ready" });
    expect(w.condition("Reconciling")?.status).toBe("False");
  });

  it("does not try again a spec that already failed on this chart, until the spec changes", async () => {
    const w = await readyWorld();
    w.helmFails = (v) => (v.greeting === "bad" ? "helm: upgrade failed: timed out" : undefined);
    w.setSpec({ greeting: "bad" });
    await w.reconcile();
    expect(w.calls).toEqual(["upgrade 1.0.0", "rollback to 1"]);
    const result = await w.reconcile();
    await w.reconcile();
    expect(w.calls).toEqual(["upgrade 1.0.0", "rollback to 1"]);
    expect(w.condition()?.reason).toBe("UpgradeFailed");
    expect(result.requeueAfterMs).toBe(60_000);
    w.setSpec({ greeting: "good" });
    await w.reconcile();
    expect(w.calls.at(-1)).toBe("upgrade 1.0.0");
    expect(w.condition()).toMatchObject({ status: "True", observedGeneration: 3 });
    expect(w.instance.status?.failedChart).toBeUndefined();
  });
});
