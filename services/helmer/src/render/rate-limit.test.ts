import { describe, expect, it } from "vitest";
import { RateLimiter } from "./rate-limit.js";

describe("RateLimiter", () => {
  it("allows a burst per caller, then one request per refill interval, and keeps callers apart", () => {
    let now = 0;
    const limiter = new RateLimiter({ burst: 3, perMinute: 6, now: () => now });
    expect([1, 2, 3].map(() => limiter.take("a").allowed)).toEqual([true, true, true]);
    expect(limiter.take("a")).toEqual({ allowed: false, retryInMs: 10_000 });
    expect(limiter.take("b").allowed).toBe(true);
    now = 5_000;
    expect(limiter.take("a")).toEqual({ allowed: false, retryInMs: 5_000 });
    now = 10_000;
    expect(limiter.take("a").allowed).toBe(true);
    expect(limiter.take("a").allowed).toBe(false);
  });

  it("forgets the least recently seen callers beyond its limit (they come back with a full burst)", () => {
    const limiter = new RateLimiter({ burst: 1, perMinute: 1, maxCallers: 2, now: () => 0 });
    expect(limiter.take("a").allowed).toBe(true);
    expect(limiter.take("b").allowed).toBe(true);
    expect(limiter.take("c").allowed).toBe(true);
    expect(limiter.take("a").allowed).toBe(true);
    expect(limiter.take("c").allowed).toBe(false);
  });
});
