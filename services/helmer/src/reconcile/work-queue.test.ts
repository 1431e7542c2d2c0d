import { describe, expect, it } from "vitest";
import { WorkQueue } from "./work-queue.js";

const tick = (ms = 5): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe("WorkQueue", () => {
  it("never runs one key twice at a time, and runs it again when it changed meanwhile", async () => {
    const running = new Set<string>();
    const log: string[] = [];
    let overlap = false;
    const q = new WorkQueue({
      concurrency: 4,
      onError: () => undefined,
      reconcile: async (key) => {
        if (running.has(key)) overlap = true;
        running.add(key);
        log.push(key);
        await tick(20);
        running.delete(key);
        return {};
      },
    });
    q.add("a");
    await tick();
    q.add("a"); // while running: once more afterwards
    q.add("a"); // collapsed
    q.add("b");
    await tick(100);
    await q.idle();
    expect(overlap).toBe(false);
    expect(log.filter((k) => k === "a")).toHaveLength(2);
    expect(log.filter((k) => k === "b")).toHaveLength(1);
  });

  it("retries failures with growing backoff, and honours requeueAfter", async () => {
    const attempts: number[] = [];
    const errors: number[] = [];
    const start = Date.now();
    const q = new WorkQueue({
      concurrency: 1,
      baseBackoffMs: 10,
      onError: (_k, _e, retry) => errors.push(retry),
      reconcile: () => {
        attempts.push(Date.now() - start);
        if (attempts.length < 3) return Promise.reject(new Error("apiserver unavailable"));
        if (attempts.length === 3) return Promise.resolve({ requeueAfterMs: 30 });
        return Promise.resolve({});
      },
    });
    q.add("x");
    await tick(200);
    q.stop();
    expect(errors).toEqual([10, 20]);
    expect(attempts).toHaveLength(4);
    expect(attempts[3]! - attempts[2]!).toBeGreaterThanOrEqual(28);
  });
});
