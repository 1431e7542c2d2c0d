import { describe, expect, it } from "vitest";
import { ConditionSet, findCondition, isConditionTrue, setCondition } from "./conditions.js";

describe("setCondition", () => {
  const t0 = new Date("2026-01-01T00:00:00Z");
  const t1 = new Date("2026-01-01T00:05:00Z");

  it("keeps the transition time while the status is unchanged, and moves it on a change", () => {
    const ready = setCondition(
      [],
      { type: "Ready", status: "False", reason: "Installing", message: "m" },
      t0,
    );
    const again = setCondition(
      ready,
      { type: "Ready", status: "False", reason: "Waiting", message: "n" },
      t1,
    );
    expect(again).toEqual([
      {
        type: "Ready",
        status: "False",
        reason: "Waiting",
        message: "n",
        lastTransitionTime: t0.toISOString(),
      },
    ]);
    const done = setCondition(
      again,
      { type: "Ready", status: "True", reason: "Ready", message: "ok" },
      t1,
    );
    expect(done[0]?.lastTransitionTime).toBe(t1.toISOString());
  });

  it("adds new condition types after existing ones", () => {
    const a = setCondition([], { type: "Ready", status: "True", reason: "R", message: "" }, t0);
    const b = setCondition(a, { type: "Stalled", status: "False", reason: "S", message: "" }, t0);
    expect(b.map((c) => c.type)).toEqual(["Ready", "Stalled"]);
  });
});

describe("ConditionSet.judge", () => {
  const t0 = new Date("2026-01-01T00:00:00Z");
  const t1 = new Date("2026-01-01T00:05:00Z");
  const statuses = (set: ConditionSet): Record<string, string> =>
    Object.fromEntries(set.toArray().map((c) => [c.type, c.status]));

  it.each([
    ["Current", { Ready: "True", Reconciling: "False", Stalled: "False" }],
    ["InProgress", { Ready: "False", Reconciling: "True", Stalled: "False" }],
    ["Stalled", { Ready: "False", Reconciling: "False", Stalled: "True" }],
  ] as const)("makes Ready, Reconciling and Stalled agree with %s", (standing, expected) => {
    const set = new ConditionSet([], 3, t0).judge({ standing, reason: "R", message: "why" });
    expect(statuses(set)).toEqual(expected);
    expect(set.toArray().every((c) => c.observedGeneration === 3 && c.reason === "R")).toBe(true);
    // Only the condition that is True says why; the others are empty.
    const withMessage = set.toArray().filter((c) => c.message !== "");
    expect(withMessage.map((c) => c.type)).toEqual(
      standing === "Current"
        ? ["Ready"]
        : ["Ready", standing === "Stalled" ? "Stalled" : "Reconciling"],
    );
  });

  it("keeps a Ready of this generation with keepReady, and never one of an older generation", () => {
    const ready = new ConditionSet([], 2, t0)
      .judge({ standing: "Current", reason: "Ready", message: "ok" })
      .toArray();
    const moving = { standing: "InProgress", reason: "UpgradePending", message: "wait" } as const;
    const kept = new ConditionSet(ready, 2, t1).judge(moving, { keepReady: true });
    expect(kept.get("Ready")).toMatchObject({ status: "True", reason: "Ready", message: "ok" });
    expect(kept.get("Reconciling")).toMatchObject({ status: "True", message: "wait" });
    // A spec change (generation 3): the Ready of generation 2 says nothing about it.
    const changed = new ConditionSet(ready, 3, t1).judge(moving, { keepReady: true });
    expect(changed.get("Ready")).toMatchObject({ status: "False", reason: "UpgradePending" });
    expect(changed.get("Ready")?.lastTransitionTime).toBe(t1.toISOString());
  });
});

describe("findCondition", () => {
  it("finds a condition by type in any object's conditions, or nothing", () => {
    const node = [
      { type: "MemoryPressure", status: "False" },
      { type: "Ready", status: "True" },
    ];
    expect(findCondition(node, "Ready")).toEqual({ type: "Ready", status: "True" });
    expect(findCondition(node, "Stalled")).toBeUndefined();
    expect(findCondition(undefined, "Ready")).toBeUndefined();
    expect(isConditionTrue(node, "Ready")).toBe(true);
    expect(isConditionTrue(node, "MemoryPressure")).toBe(false);
  });
});
