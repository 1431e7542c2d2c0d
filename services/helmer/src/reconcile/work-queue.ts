import { RequeueAfterError, TerminalError } from "@kubeplus/kube/lite";
import {
  ReconcileResult as Result,
  secondsSince,
  type ControllerMetrics,
  type ServiceMetrics,
  type WorkQueueMetrics,
} from "@kubeplus/runtime";

/** What a reconcile returns: nothing (done until something changes) or when to look again. */
export interface ReconcileResult {
  readonly requeueAfterMs?: number;
}

export interface WorkQueueOptions {
  readonly concurrency: number;
  readonly reconcile: (key: string) => Promise<ReconcileResult>;
  /** A failure the queue retries with backoff (anything but the two typed errors below). */
  readonly onError: (key: string, err: unknown, retryInMs: number) => void;
  /**
   * A TerminalError: not retried. The controller records it (a Stalled condition); if that write fails, the key is
   * retried with backoff so that the failure is recorded eventually. Without it, the error goes to onError only.
   */
  readonly onTerminal?: (key: string, err: TerminalError) => Promise<void>;
  /** A RequeueAfterError: the key comes back after exactly `err.afterMs`, not counted as a failure. */
  readonly onRequeue?: (key: string, err: RequeueAfterError) => void;
  readonly baseBackoffMs?: number;
  readonly maxBackoffMs?: number;
  /** The queue's and its controller's families (controller-runtime's and client-go's names). */
  readonly metrics?: { readonly queue: WorkQueueMetrics; readonly controller: ControllerMetrics };
}

/** A controller's queue and reconcile families, named after the controller (a bounded label). */
export function controllerMetrics(
  metrics: ServiceMetrics | undefined,
  controller: string,
  concurrency: number,
): WorkQueueOptions["metrics"] {
  return metrics
    ? {
        queue: metrics.workQueue(controller),
        controller: metrics.controller(controller, concurrency),
      }
    : undefined;
}

/** How a reconcile ended, for controller_runtime_reconcile_total's `result`. */
function resultOf(outcome: unknown, failed: boolean): Result {
  if (!failed) {
    const requeue = (outcome as ReconcileResult).requeueAfterMs !== undefined;
    return requeue ? Result.RequeueAfter : Result.Success;
  }
  return outcome instanceof RequeueAfterError ? Result.RequeueAfter : Result.Error;
}

/**
 * A level-based work queue (controller-runtime semantics): a key is queued at most once, never processed by two
 * workers at a time, re-queued if it changes while being processed, retried with exponential backoff on errors;
 * a TerminalError is not retried, a RequeueAfterError comes back after exactly its delay.
 */
export class WorkQueue {
  private readonly queue: string[] = [];
  private readonly queued = new Set<string>();
  private readonly active = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** When each waiting key was queued, and when each running one started (performance.now()). */
  private readonly queuedAt = new Map<string, number>();
  private readonly startedAt = new Map<string, number>();
  private running = 0;
  private stopped = false;
  private readonly options: WorkQueueOptions;
  private idleWaiters: (() => void)[] = [];

  constructor(options: WorkQueueOptions) {
    this.options = options;
    options.metrics?.queue.longestRunning(() => {
      const oldest = Math.min(...this.startedAt.values());
      return Number.isFinite(oldest) ? secondsSince(oldest) : 0;
    });
  }

  add(key: string): void {
    if (this.stopped) return;
    if (this.active.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    this.queued.add(key);
    this.queue.push(key);
    this.queuedAt.set(key, performance.now());
    this.options.metrics?.queue.added();
    this.options.metrics?.queue.depth(this.queue.length);
    this.pump();
  }

  addAfter(key: string, ms: number): void {
    if (this.stopped) return;
    const existing = this.timers.get(key);
    if (existing) clearTimeout(existing);
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        this.add(key);
      }, ms),
    );
  }

  /**
   * How many reconciles are ahead of a key that is queued and waiting for a free worker (those running and those
   * queued before it), or undefined when it is not waiting (running, not queued, or started at once).
   */
  waiting(key: string): number | undefined {
    if (this.active.has(key) || !this.queued.has(key)) return undefined;
    return this.running + this.queue.indexOf(key);
  }

  get length(): number {
    return this.queue.length + this.active.size;
  }

  /** Resolves when nothing is queued or running (timers may still be pending). */
  idle(): Promise<void> {
    if (this.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }

  private backoff(key: string): number {
    const n = (this.failures.get(key) ?? 0) + 1;
    this.failures.set(key, n);
    const base = this.options.baseBackoffMs ?? 200;
    return Math.min(this.options.maxBackoffMs ?? 60_000, base * 2 ** (n - 1));
  }

  private pump(): void {
    while (!this.stopped && this.running < this.options.concurrency) {
      const index = this.queue.findIndex((k) => !this.active.has(k));
      if (index < 0) break;
      const [key] = this.queue.splice(index, 1);
      if (key === undefined) break;
      this.queued.delete(key);
      this.active.add(key);
      this.running += 1;
      this.observeStart(key);
      void this.process(key);
    }
  }

  private observeStart(key: string): void {
    const metrics = this.options.metrics;
    const now = performance.now();
    metrics?.queue.started(secondsSince(this.queuedAt.get(key) ?? now));
    this.queuedAt.delete(key);
    this.startedAt.set(key, now);
    metrics?.queue.depth(this.queue.length);
    metrics?.controller.activeWorkers(this.running);
  }

  private observeEnd(key: string, outcome: unknown, failed: boolean): void {
    const metrics = this.options.metrics;
    const started = this.startedAt.get(key) ?? performance.now();
    this.startedAt.delete(key);
    if (!metrics) return;
    const seconds = secondsSince(started);
    metrics.queue.finished(seconds);
    metrics.controller.reconciled(
      resultOf(outcome, failed),
      seconds,
      failed && outcome instanceof TerminalError,
    );
  }

  private async failed(key: string, err: unknown): Promise<void> {
    if (err instanceof RequeueAfterError) {
      this.failures.delete(key);
      this.options.onRequeue?.(key, err);
      this.addAfter(key, err.afterMs);
      return;
    }
    if (err instanceof TerminalError) {
      this.failures.delete(key);
      if (!this.options.onTerminal) {
        this.options.onError(key, err, -1);
        return;
      }
      try {
        await this.options.onTerminal(key, err);
        return;
      } catch (recordErr) {
        err = recordErr;
      }
    }
    const retryIn = this.backoff(key);
    this.options.metrics?.queue.retried();
    this.options.onError(key, err, retryIn);
    this.addAfter(key, retryIn);
  }

  private async process(key: string): Promise<void> {
    try {
      const result = await this.options.reconcile(key);
      this.observeEnd(key, result, false);
      this.failures.delete(key);
      if (result.requeueAfterMs !== undefined) this.addAfter(key, result.requeueAfterMs);
    } catch (err) {
      this.observeEnd(key, err, true);
      await this.failed(key, err);
    } finally {
      this.active.delete(key);
      this.running -= 1;
      this.options.metrics?.controller.activeWorkers(this.running);
      if (this.dirty.delete(key)) this.add(key);
      this.pump();
      if (this.length === 0) for (const w of this.idleWaiters.splice(0)) w();
    }
  }
}
