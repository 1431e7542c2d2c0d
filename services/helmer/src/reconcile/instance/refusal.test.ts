import { describe, expect, it } from "vitest";
import { InstanceWorld } from "../../testing/instance-world.js";

describe("isolation refusal", () => {
  it("refuses an install that would break isolation: nothing applied, nothing to undo", async () => {
    const w = new InstanceWorld({ greeting: "hi", hostPath: "/var/run" });
    const result = await w.reconcile();
    expect(w.calls).toEqual([]);
    expect(w.releases).toEqual([]);
    expect(w.condition()).toMatchObject({ status: "False", reason: "IsolationRefused" });
    expect(w.condition()?.message).toContain("Pod/debug: hostPath volumes share the node's files");
    expect(w.condition("Stalled")?.status).toBe("True");
    expect(result.requeueAfterMs).toBe(60_000);
    // Not a failed chart: one tenant's values never spend the fleet's failure budget.
    expect(w.instance.status?.failedChart).toBeUndefined();
    // Tried again at the resync: still refused, and the condition does not flap through Installing.
    const writes = w.statusWrites;
    await w.reconcile();
    expect(w.condition()?.reason).toBe("IsolationRefused");
    expect(w.statusWrites).toBe(writes + 1);
    expect(w.events.map((e) => e.subject)).toEqual(["InstanceFailed"]);
  });

  it("installs once the composition allows it", async () => {
    const w = new InstanceWorld({ greeting: "hi", hostPath: "/var/run" });
    await w.reconcile();
    w.rc = { ...w.rc, spec: { ...w.rc.spec, isolation: { allow: ["hostPath"] } } };
    await w.reconcile();
    expect(w.calls).toEqual(["install 1.0.0"]);
    expect(w.condition()).toMatchObject({ status: "True", reason: "Ready" });
  });

  it("refuses a deployed release again when the composition takes an allowance back", async () => {
    const w = new InstanceWorld({ greeting: "hi", hostPath: "/var/run" });
    w.rc = { ...w.rc, spec: { ...w.rc.spec, isolation: { allow: ["hostPath"] } } };
    await w.settle();
    expect(w.condition()?.status).toBe("True");
    w.rc = { ...w.rc, spec: { ...w.rc.spec, isolation: { allow: [] } } };
    await w.reconcile();
    expect(w.calls).toEqual(["install 1.0.0"]);
    expect(w.condition()).toMatchObject({ status: "False", reason: "IsolationRefused" });
  });

  it("refuses an upgrade to refused values, leaving the deployed revision alone", async () => {
    const w = new InstanceWorld();
    await w.settle();
    w.setSpec({ greeting: "hi", hostPath: "/etc" });
    await w.reconcile();
    expect(w.calls).toEqual(["install 1.0.0"]);
    expect(w.latest()).toMatchObject({ revision: 1, status: "deployed" });
    expect(w.condition()).toMatchObject({
      status: "False",
      reason: "IsolationRefused",
      observedGeneration: 2,
    });
  });
});
