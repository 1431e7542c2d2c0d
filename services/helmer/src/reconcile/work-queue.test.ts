import { describe, expect, it } from "vitest";
import { RequeueAfterError, TerminalError } from "@kubeplus/kube/lite";
import { ServiceMetrics } from "@kubeplus/runtime";
import { controllerMetrics, WorkQueue } from "./work-queue.js";

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

  it("says how many reconciles are ahead of a key waiting for a worker, and nothing once it runs", async () => {
    const release: (() => void)[] = [];
    const q = new WorkQueue({
      concurrency: 2,
      onError: () => undefined,
      reconcile: () => new Promise((r) => release.push(() => r({}))),
    });
    q.add("a");
    q.add("b");
    q.add("c");
    q.add("d");
    expect(q.waiting("a")).toBeUndefined(); // started at once
    expect(q.waiting("c")).toBe(2);
    expect(q.waiting("d")).toBe(3);
    expect(q.waiting("e")).toBeUndefined();
    release.shift()?.();
    await tick();
    expect(q.waiting("c")).toBeUndefined();
    expect(q.waiting("d")).toBe(2);
    for (const r of release.splice(0)) r();
    await tick();
    for (const r of release.splice(0)) r();
    await q.idle();
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

describe("WorkQueue: typed errors", () => {
  it.each([
    ["a TerminalError is not retried, and is recorded once", new TerminalError("invalid")],
    ["a RequeueAfterError comes back after exactly its delay", new RequeueAfterError(60, "later")],
    ["any other error is retried with backoff", new Error("apiserver unavailable")],
  ])("%s", async (_what, error) => {
    const attempts: number[] = [];
    const terminal: string[] = [];
    const requeued: number[] = [];
    const retried: number[] = [];
    const start = Date.now();
    const q = new WorkQueue({
      concurrency: 1,
      baseBackoffMs: 10,
      onError: (_k, _e, retry) => retried.push(retry),
      onTerminal: (key, err) => {
        terminal.push(`${key}: ${err.message}`);
        return Promise.resolve();
      },
      onRequeue: (_k, err) => requeued.push(err.afterMs),
      reconcile: () => {
        attempts.push(Date.now() - start);
        return attempts.length === 1 ? Promise.reject(error) : Promise.resolve({});
      },
    });
    q.add("x");
    await tick(150);
    q.stop();
    if (error instanceof TerminalError) {
      expect(attempts).toHaveLength(1);
      expect(terminal).toEqual(["x: invalid"]);
      expect(retried).toEqual([]);
    } else if (error instanceof RequeueAfterError) {
      expect(attempts).toHaveLength(2);
      expect(requeued).toEqual([60]);
      expect(retried).toEqual([]);
      expect(attempts[1]! - attempts[0]!).toBeGreaterThanOrEqual(58);
    } else {
      expect(attempts).toHaveLength(2);
      expect(retried).toEqual([10]);
      expect(attempts[1]! - attempts[0]!).toBeLessThan(58);
    }
  });

  it("retries a TerminalError whose recording failed, so that it is recorded eventually", async () => {
    let records = 0;
    let attempts = 0;
    const q = new WorkQueue({
      concurrency: 1,
      baseBackoffMs: 10,
      onError: () => undefined,
      onTerminal: () => {
        records += 1;
        return records === 1 ? Promise.reject(new Error("status write failed")) : Promise.resolve();
      },
      reconcile: () => {
        attempts += 1;
        return Promise.reject(new TerminalError("invalid"));
      },
    });
    q.add("x");
    await tick(150);
    q.stop();
    expect(records).toBe(2);
    expect(attempts).toBe(2);
  });

  it("observes each reconcile's result and duration, and the queue's adds, depth and retries", async () => {
    const metrics = new ServiceMetrics({ defaultMetrics: false });
    let failures = 0;
    const q = new WorkQueue({
      concurrency: 1,
      baseBackoffMs: 5,
      onError: () => undefined,
      onTerminal: () => Promise.resolve(),
      metrics: controllerMetrics(metrics, "instance", 1),
      reconcile: async (key) => {
        await tick(20);
        if (key === "flaky" && failures++ === 0) throw new Error("apiserver busy");
        if (key === "broken") throw new TerminalError("invalid", { reason: "Invalid" });
        if (key === "later") throw new RequeueAfterError(60_000, "not yet");
        return key === "poll" ? { requeueAfterMs: 60_000 } : {};
      },
    });
    for (const key of ["ok", "flaky", "broken", "later", "poll"]) q.add(key);
    const waiting = await metrics.exposition();
    // One runs, four wait.
    expect(waiting).toContain('workqueue_depth{name="instance"} 4');
    await tick(60);
    await q.idle();
    await tick(30);
    await q.idle();
    q.stop();
    const text = await metrics.exposition();
    const count = (result: string): string =>
      `controller_runtime_reconcile_total{controller="instance",result="${result}"}`;
    expect(text).toContain(`${count("success")} 2`); // ok, and flaky's second attempt
    expect(text).toContain(`${count("error")} 2`); // flaky's first attempt, broken
    expect(text).toContain(`${count("requeue_after")} 2`); // later, poll
    expect(text).toContain('controller_runtime_reconcile_errors_total{controller="instance"} 2');
    expect(text).toContain(
      'controller_runtime_terminal_reconcile_errors_total{controller="instance"} 1',
    );
    expect(text).toContain(
      'controller_runtime_reconcile_time_seconds_count{controller="instance"} 6',
    );
    expect(text).toContain('workqueue_adds_total{name="instance"} 6');
    expect(text).toContain('workqueue_retries_total{name="instance"} 1');
    expect(text).toContain('workqueue_depth{name="instance"} 0');
    expect(text).toContain('workqueue_queue_duration_seconds_count{name="instance"} 6');
    // One worker, five keys of about 20 ms each: they waited 0 + 20 + 40 + 60 + 80 ms at least.
    const waited = /workqueue_queue_duration_seconds_sum\{name="instance"\} ([\d.]+)/.exec(text);
    expect(Number(waited?.[1])).toBeGreaterThan(0.15);
    expect(text).toContain('controller_runtime_active_workers{controller="instance"} 0');
  });
});
