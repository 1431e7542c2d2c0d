import { describe, expect, it } from "vitest";
import { InstanceWorld } from "../../testing/instance-world.js";

describe("recovery of a release a crash left pending", () => {
  it("uninstalls a release left pending-install, then installs it again", async () => {
    const w = new InstanceWorld();
    await w.crash();
    expect(w.latest()?.status).toBe("pending-install");
    const first = await w.reconcile();
    expect(w.condition()).toMatchObject({ status: "False", reason: "Recovering" });
    expect(w.condition()?.message).toContain("pending-install (revision 1)");
    expect(first.requeueAfterMs).toBe(0);
    await w.settle();
    expect(w.calls).toEqual(["install 1.0.0", "uninstall", "install 1.0.0"]);
    expect(w.latest()).toMatchObject({ revision: 1, status: "deployed" });
    expect(w.condition()).toMatchObject({ status: "True", reason: "Ready" });
  });

  it("rolls back a release left pending-upgrade, keeping Ready, then upgrades again", async () => {
    const w = new InstanceWorld();
    await w.settle();
    w.setSpec({ greeting: "v2" });
    await w.crash();
    expect(w.latest()?.status).toBe("pending-upgrade");
    await w.reconcile();
    // The previous revision still serves: the tenant's Ready is not taken away while it recovers.
    expect(w.condition("Reconciling")).toMatchObject({ status: "True", reason: "Recovering" });
    expect(w.calls).toEqual(["install 1.0.0", "upgrade 1.0.0", "rollback to 1"]);
    await w.settle();
    expect(w.calls.at(-1)).toBe("upgrade 1.0.0");
    expect(w.latest()).toMatchObject({ status: "deployed", values: { greeting: "v2" } });
    expect(w.condition()).toMatchObject({ status: "True", observedGeneration: 2 });
  });

  it("uninstalls a first install that failed (no good revision), then installs it again", async () => {
    const w = new InstanceWorld();
    w.releases.push({
      revision: 1,
      status: "failed",
      chart: "wordpress-chart-1.0.0",
      values: {},
      manifest: "",
    });
    await w.settle();
    expect(w.calls).toEqual(["rollback: none", "uninstall", "install 1.0.0"]);
    expect(w.condition()?.status).toBe("True");
  });
});
