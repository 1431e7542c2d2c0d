import { describe, expect, it } from "vitest";
import { InstanceWorld } from "../../testing/instance-world.js";
import { INSTANCE_FINALIZER } from "./deps.js";

const deleting = (w: InstanceWorld): void => {
  w.instance.metadata.deletionTimestamp = "2026-12-02T10:00:00Z";
};

describe("deletion", () => {
  it.each([
    [
      "with its release: uninstalled, namespace deleted, then the instance goes",
      true,
      "this",
      ["uninstall", "delete namespace"],
    ],
    [
      "without a release (never installed): the namespace goes all the same",
      false,
      "this",
      ["uninstall", "delete namespace"],
    ],
    ["in a namespace that is another's: nothing in it touched", true, "other", []],
  ] as const)("%s", async (_what, installed, owner, calls) => {
    const w = new InstanceWorld();
    if (installed) await w.settle();
    w.calls.length = 0;
    w.events.length = 0;
    w.namespaceOwner = owner;
    deleting(w);
    const first = await w.reconcile();
    expect(w.condition()).toMatchObject({ status: "False", reason: "Deleting" });
    expect(w.slotsReleased).toBe(1);
    if (owner === "this") {
      // The namespace is going: looked at again until it is gone.
      expect(first.requeueAfterMs).toBe(1_000);
      expect(w.instance.metadata.finalizers).toEqual([INSTANCE_FINALIZER]);
      await w.reconcile();
    }
    expect(w.calls).toEqual(owner === "this" ? [...calls, "uninstall"] : calls);
    // Another's namespace keeps what is in it (the fake release stands for it).
    expect(w.releases.length > 0).toBe(owner === "other");
    expect(w.instance.metadata.finalizers).toEqual([]);
    expect(w.events.map((e) => e.subject)).toEqual(["InstanceDeleted"]);
  });

  it("does nothing for an instance without the finalizer", async () => {
    const w = new InstanceWorld();
    w.instance.metadata.finalizers = [];
    deleting(w);
    expect(await w.reconcile()).toEqual({});
    expect(w.calls).toEqual([]);
    expect(w.statusWrites).toBe(0);
  });
});
