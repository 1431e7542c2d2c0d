import { describe, expect, it } from "vitest";
import { setCondition } from "./conditions.js";

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
