import { describe, expect, it } from "vitest";
import { InstanceWorld } from "../../testing/instance-world.js";

describe("the instance's namespace", () => {
  it.each([
    [
      "another's namespace of that name: NamespaceConflict, nothing installed",
      { state: "conflict", detail: "namespace t1 exists and is not this instance's" } as const,
      { reason: "NamespaceConflict", stalled: "True", requeue: 60_000 },
    ],
    [
      "an earlier instance's namespace still terminating: waits, not Stalled",
      { state: "terminating" } as const,
      { reason: "NamespaceTerminating", stalled: "False", requeue: 2_000 },
    ],
  ])("%s", async (_what, claim, expected) => {
    const w = new InstanceWorld();
    w.namespaceClaim = claim;
    const result = await w.reconcile();
    expect(w.calls).toEqual([]);
    expect(w.condition()).toMatchObject({ status: "False", reason: expected.reason });
    expect(w.condition("Stalled")?.status).toBe(expected.stalled);
    expect(result.requeueAfterMs).toBe(expected.requeue);
  });
});
