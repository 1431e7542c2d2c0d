import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";

// Every service's metrics, through one module (prom-client). Names and labels follow Prometheus's conventions
// (`_total` counters, `_seconds` durations, base units) and, where a family has a controller-runtime or client-go
// counterpart, its exact name and labels, so that dashboards made for Go operators read ours. Labels are bounded:
// a controller, a queue, a helm action, a webhook, a kind, a subject, never an instance's name.
//
// A family is registered only when a service asks for its group (`metrics.helm`, `metrics.workQueue("instance")`):
// a service exposes what it observes and nothing else.

/** controller-runtime's reconcile-time buckets (pkg/internal/controller/metrics). */
const RECONCILE_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1,
  1.25, 1.5, 1.75, 2, 2.5, 3, 3.5, 4, 4.5, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60,
];
/** Time in a queue or in a worker: from a millisecond to ten minutes. */
const QUEUE_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 600];
/** Helm runs, chart fetches and NATS requests: tens of milliseconds to minutes. */
const RUN_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
/** Admission must answer within the webhook's timeout (10 s); most answers take a millisecond. */
const ADMISSION_BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10,
];

/** How a reconcile ended, as controller-runtime's `result` label says it. */
export const ReconcileResult = {
  Success: "success",
  Error: "error",
  Requeue: "requeue",
  RequeueAfter: "requeue_after",
} as const;
export type ReconcileResult = (typeof ReconcileResult)[keyof typeof ReconcileResult];

/** One controller's reconciles (controller-runtime's families, `controller` label). */
export interface ControllerMetrics {
  /** A reconcile ended: its result, its duration, and whether it failed for good (a TerminalError). */
  reconciled(result: ReconcileResult, seconds: number, terminal?: boolean): void;
  /** Workers busy now. */
  activeWorkers(n: number): void;
}

/** One work queue (client-go's `workqueue_*` families, `name` label). */
export interface WorkQueueMetrics {
  /** A key entered the queue (not counted when it was already waiting). */
  added(): void;
  /** Keys waiting now. */
  depth(n: number): void;
  /** A key was put back with a backoff after a failure. */
  retried(): void;
  /** A worker took a key that waited this long. */
  started(queuedSeconds: number): void;
  /** A worker finished a key after this long. */
  finished(workSeconds: number): void;
  /** How long the longest-running worker has been busy, read at each scrape. */
  longestRunning(read: () => number): void;
}

/** Outcome of one run of something outside the process (helm, a fetch, a NATS request). */
export const Outcome = { Success: "success", Failure: "failure" } as const;
export type Outcome = (typeof Outcome)[keyof typeof Outcome];

export interface HelmMetrics {
  /** One `helm` process: its action (`upgrade-install`, `uninstall`, `rollback`, `history`, `template`). */
  ran(action: string, outcome: Outcome, seconds: number): void;
}

/** The answer a webhook gave. */
export const Verdict = { Allowed: "allowed", Denied: "denied", Error: "error" } as const;
export type Verdict = (typeof Verdict)[keyof typeof Verdict];

export interface AdmissionMetrics {
  /** One AdmissionReview answered: which webhook (`validate`, `mutate`), the object's kind and operation. */
  reviewed(
    review: { webhook: string; kind: string; operation: string },
    verdict: Verdict,
    seconds: number,
  ): void;
}

export interface NatsMetrics {
  /** Times a request this service sends; a failure is counted by its error code (a ContractError's `code`). */
  request<T>(subject: string, send: () => Promise<T>): Promise<T>;
  /** Times the handling of a request this service serves. */
  handle<A extends unknown[], T>(
    subject: string,
    handler: (...args: A) => Promise<T>,
  ): (...args: A) => Promise<T>;
}

export interface ChartMetrics {
  /** A chart fetched from its source (`http`, `oci`, `uploaded`). */
  fetched(source: string, outcome: Outcome, seconds: number): void;
  /** A lookup in one of the chart caches (`chart`, `render`). */
  lookup(cache: string, hit: boolean): void;
}

export interface ServiceMetricsOptions {
  /** Process and Node runtime metrics (prom-client's default collectors). Default true; tests turn them off. */
  readonly defaultMetrics?: boolean;
}

const errorCode = (err: unknown): string => {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === "string" && /^[A-Za-z]{1,40}$/.test(code) ? code : "Unknown";
};

/** Seconds since `started` (a `performance.now()` reading). */
export function secondsSince(started: number): number {
  return (performance.now() - started) / 1000;
}

/**
 * A service's metrics registry: the groups of families it observes, each registered on first use, and the text
 * exposition for `/metrics`.
 */
export class ServiceMetrics {
  readonly registry = new Registry();
  private readonly groups = new Map<string, unknown>();

  constructor(options: ServiceMetricsOptions = {}) {
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  /** The Prometheus text exposition of every registered family. */
  exposition(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** A gauge of the service's own, registered here (for facts only that service knows). */
  gauge(name: string, help: string): Gauge {
    return this.once(`gauge:${name}`, () => new Gauge({ name, help, registers: [this.registry] }));
  }

  /** A counter of the service's own, registered here. */
  counter(name: string, help: string): Counter {
    return this.once(
      `counter:${name}`,
      () => new Counter({ name, help, registers: [this.registry] }),
    );
  }

  private once<T>(key: string, make: () => T): T {
    if (!this.groups.has(key)) this.groups.set(key, make());
    return this.groups.get(key) as T;
  }

  private reconcileFamilies(): {
    total: Counter<"controller" | "result">;
    errors: Counter<"controller">;
    terminal: Counter<"controller">;
    time: Histogram<"controller">;
    active: Gauge<"controller">;
    max: Gauge<"controller">;
  } {
    const registers = [this.registry];
    return this.once("reconcile", () => ({
      total: new Counter({
        name: "controller_runtime_reconcile_total",
        help: "Total number of reconciliations per controller",
        labelNames: ["controller", "result"] as const,
        registers,
      }),
      errors: new Counter({
        name: "controller_runtime_reconcile_errors_total",
        help: "Total number of reconciliation errors per controller",
        labelNames: ["controller"] as const,
        registers,
      }),
      terminal: new Counter({
        name: "controller_runtime_terminal_reconcile_errors_total",
        help: "Total number of terminal reconciliation errors per controller",
        labelNames: ["controller"] as const,
        registers,
      }),
      time: new Histogram({
        name: "controller_runtime_reconcile_time_seconds",
        help: "Length of time per reconciliation per controller",
        labelNames: ["controller"] as const,
        buckets: RECONCILE_BUCKETS,
        registers,
      }),
      active: new Gauge({
        name: "controller_runtime_active_workers",
        help: "Number of currently used workers per controller",
        labelNames: ["controller"] as const,
        registers,
      }),
      max: new Gauge({
        name: "controller_runtime_max_concurrent_reconciles",
        help: "Maximum number of concurrent reconciles per controller",
        labelNames: ["controller"] as const,
        registers,
      }),
    }));
  }

  /** The reconcile families of one controller (`instance`, `resourcecomposition`). */
  controller(name: string, maxConcurrent: number): ControllerMetrics {
    const f = this.reconcileFamilies();
    const labels = { controller: name };
    f.max.set(labels, maxConcurrent);
    f.active.set(labels, 0);
    return {
      reconciled: (result, seconds, terminal = false) => {
        f.total.inc({ controller: name, result });
        f.time.observe(labels, seconds);
        if (result === ReconcileResult.Error) f.errors.inc(labels);
        if (terminal) f.terminal.inc(labels);
      },
      activeWorkers: (n) => {
        f.active.set(labels, n);
      },
    };
  }

  private queueFamilies(): {
    depth: Gauge<"name">;
    adds: Counter<"name">;
    retries: Counter<"name">;
    queued: Histogram<"name">;
    work: Histogram<"name">;
    longest: Gauge<"name">;
    readers: Map<string, () => number>;
  } {
    const registers = [this.registry];
    return this.once("workqueue", () => {
      const readers = new Map<string, () => number>();
      return {
        depth: new Gauge({
          name: "workqueue_depth",
          help: "Current depth of workqueue",
          labelNames: ["name"] as const,
          registers,
        }),
        adds: new Counter({
          name: "workqueue_adds_total",
          help: "Total number of adds handled by workqueue",
          labelNames: ["name"] as const,
          registers,
        }),
        retries: new Counter({
          name: "workqueue_retries_total",
          help: "Total number of retries handled by workqueue",
          labelNames: ["name"] as const,
          registers,
        }),
        queued: new Histogram({
          name: "workqueue_queue_duration_seconds",
          help: "How long in seconds an item stays in workqueue before being requested",
          labelNames: ["name"] as const,
          buckets: QUEUE_BUCKETS,
          registers,
        }),
        work: new Histogram({
          name: "workqueue_work_duration_seconds",
          help: "How long in seconds processing an item from workqueue takes",
          labelNames: ["name"] as const,
          buckets: QUEUE_BUCKETS,
          registers,
        }),
        longest: new Gauge({
          name: "workqueue_longest_running_processor_seconds",
          help: "How many seconds has the longest running processor for workqueue been running",
          labelNames: ["name"] as const,
          registers,
          collect() {
            for (const [name, read] of readers) this.set({ name }, read());
          },
        }),
        readers,
      };
    });
  }

  /** The families of one work queue (`name` is the controller's). */
  workQueue(name: string): WorkQueueMetrics {
    const f = this.queueFamilies();
    const labels = { name };
    f.depth.set(labels, 0);
    f.adds.inc(labels, 0);
    f.retries.inc(labels, 0);
    return {
      added: () => {
        f.adds.inc(labels);
      },
      depth: (n) => {
        f.depth.set(labels, n);
      },
      retried: () => {
        f.retries.inc(labels);
      },
      started: (seconds) => {
        f.queued.observe(labels, seconds);
      },
      finished: (seconds) => {
        f.work.observe(labels, seconds);
      },
      longestRunning: (read) => {
        f.readers.set(name, read);
      },
    };
  }

  /** `kubeplus_helm_run_duration_seconds{action,outcome}`. */
  get helm(): HelmMetrics {
    return this.once("helm", () => {
      const runs = new Histogram({
        name: "kubeplus_helm_run_duration_seconds",
        help: "Duration of helm runs by action and outcome",
        labelNames: ["action", "outcome"] as const,
        buckets: RUN_BUCKETS,
        registers: [this.registry],
      });
      return {
        ran: (action: string, outcome: Outcome, seconds: number) => {
          runs.observe({ action, outcome }, seconds);
        },
      };
    });
  }

  /** `kubeplus_admission_request_duration_seconds` and `kubeplus_admission_verdicts_total`. */
  get admission(): AdmissionMetrics {
    return this.once("admission", () => {
      const registers = [this.registry];
      const duration = new Histogram({
        name: "kubeplus_admission_request_duration_seconds",
        help: "Time to answer an AdmissionReview, by webhook and kind",
        labelNames: ["webhook", "kind"] as const,
        buckets: ADMISSION_BUCKETS,
        registers,
      });
      const verdicts = new Counter({
        name: "kubeplus_admission_verdicts_total",
        help: "AdmissionReviews answered, by webhook, kind, operation and verdict (allowed, denied, error)",
        labelNames: ["webhook", "kind", "operation", "verdict"] as const,
        registers,
      });
      return {
        reviewed: (
          review: { webhook: string; kind: string; operation: string },
          verdict: Verdict,
          seconds: number,
        ) => {
          duration.observe({ webhook: review.webhook, kind: review.kind }, seconds);
          verdicts.inc({ ...review, verdict });
        },
      };
    });
  }

  /** NATS request/reply, both sides, by subject (a registry entry, never a Kubernetes name). */
  get nats(): NatsMetrics {
    return this.once("nats", () => {
      const registers = [this.registry];
      let requests: Histogram<"subject" | "outcome"> | undefined;
      let failures: Counter<"subject" | "code"> | undefined;
      let handled: Histogram<"subject" | "outcome"> | undefined;
      // Client and server families are registered apart: a service that only serves shows no request family.
      const client = (): {
        requests: Histogram<"subject" | "outcome">;
        failures: Counter<"subject" | "code">;
      } => {
        requests ??= new Histogram({
          name: "kubeplus_nats_request_duration_seconds",
          help: "Latency of NATS requests this service sent, by subject and outcome",
          labelNames: ["subject", "outcome"] as const,
          buckets: RUN_BUCKETS,
          registers,
        });
        failures ??= new Counter({
          name: "kubeplus_nats_request_failures_total",
          help: "NATS requests this service sent that failed, by subject and error code",
          labelNames: ["subject", "code"] as const,
          registers,
        });
        return { requests, failures };
      };
      const server = (): Histogram<"subject" | "outcome"> =>
        (handled ??= new Histogram({
          name: "kubeplus_nats_handler_duration_seconds",
          help: "Time this service took to answer NATS requests, by subject and outcome",
          labelNames: ["subject", "outcome"] as const,
          buckets: RUN_BUCKETS,
          registers,
        }));
      const metrics: NatsMetrics = {
        request: async (subject, send) => {
          const f = client();
          const started = performance.now();
          try {
            const reply = await send();
            f.requests.observe({ subject, outcome: Outcome.Success }, secondsSince(started));
            return reply;
          } catch (err) {
            f.requests.observe({ subject, outcome: Outcome.Failure }, secondsSince(started));
            f.failures.inc({ subject, code: errorCode(err) });
            throw err;
          }
        },
        handle: (subject, handler) => {
          const h = server();
          return async (...args) => {
            const started = performance.now();
            try {
              const reply = await handler(...args);
              h.observe({ subject, outcome: Outcome.Success }, secondsSince(started));
              return reply;
            } catch (err) {
              h.observe({ subject, outcome: Outcome.Failure }, secondsSince(started));
              throw err;
            }
          };
        },
      };
      return metrics;
    });
  }

  /** `kubeplus_chart_fetch_duration_seconds` and `kubeplus_chart_cache_lookups_total`. */
  get charts(): ChartMetrics {
    return this.once("charts", () => {
      const registers = [this.registry];
      const fetches = new Histogram({
        name: "kubeplus_chart_fetch_duration_seconds",
        help: "Time to fetch and check a chart, by source (http, oci, uploaded) and outcome",
        labelNames: ["source", "outcome"] as const,
        buckets: RUN_BUCKETS,
        registers,
      });
      const lookups = new Counter({
        name: "kubeplus_chart_cache_lookups_total",
        help: "Lookups in the chart caches (chart by URL, render by values), by cache and result (hit, miss)",
        labelNames: ["cache", "result"] as const,
        registers,
      });
      return {
        fetched: (source: string, outcome: Outcome, seconds: number) => {
          fetches.observe({ source, outcome }, seconds);
        },
        lookup: (cache: string, hit: boolean) => {
          lookups.inc({ cache, result: hit ? "hit" : "miss" });
        },
      };
    });
  }
}
