import { describe, expect, it } from "vitest";
import { WakeFilter } from "./wake.js";

describe("WakeFilter", () => {
  it("wakes on what a reconcile acts on, never on a status-only change", () => {
    const wake = new WakeFilter();
    const meta = { generation: 1, finalizers: ["kubeplus"], labels: { a: "1" } };
    expect(wake.wakes("ns/a", meta, "add")).toBe(true);
    // The same metadata again: a status write (ours or the fleet's counts) bumped only resourceVersion.
    expect(wake.wakes("ns/a", { ...meta }, "update")).toBe(false);
    expect(wake.wakes("ns/a", { ...meta, generation: 2 }, "update")).toBe(true);
    expect(wake.wakes("ns/a", { ...meta, generation: 2, finalizers: [] }, "update")).toBe(true);
    expect(
      wake.wakes(
        "ns/a",
        { ...meta, generation: 2, finalizers: [], annotations: { x: "y" } },
        "update",
      ),
    ).toBe(true);
    expect(
      wake.wakes(
        "ns/a",
        { generation: 2, finalizers: [], annotations: { x: "y" }, deletionTimestamp: "now" },
        "update",
      ),
    ).toBe(true);
    // Another object is tracked apart; a deletion always wakes and forgets.
    expect(wake.wakes("ns/b", meta, "add")).toBe(true);
    expect(wake.wakes("ns/b", meta, "delete")).toBe(true);
    expect(wake.wakes("ns/b", meta, "add")).toBe(true);
  });
});
