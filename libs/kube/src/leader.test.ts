import { describe, expect, it } from "vitest";
import { canAcquire } from "./leader.js";

const now = Date.parse("2026-11-24T10:00:00Z");

describe("canAcquire", () => {
  it("takes a free lease, keeps its own, and waits out another holder's term", () => {
    expect(canAcquire({}, "a", now)).toBe(true);
    const held = {
      holderIdentity: "b",
      leaseDurationSeconds: 15,
      renewTime: new Date(now - 10_000).toISOString(),
    };
    expect(canAcquire(held, "a", now)).toBe(false);
    expect(canAcquire(held, "b", now)).toBe(true);
    expect(canAcquire({ ...held, renewTime: new Date(now - 16_000).toISOString() }, "a", now)).toBe(
      true,
    );
    // Released (holder cleared on shutdown): free at once.
    expect(canAcquire({ ...held, holderIdentity: "" }, "a", now)).toBe(true);
  });
});
