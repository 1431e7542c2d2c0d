import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { startHealthServer } from "./health.js";
import { Outcome, ReconcileResult, ServiceMetrics, Verdict } from "./metrics.js";

/** The value of one sample line (`name{labels} value`) of an exposition, or undefined. */
function sample(text: string, line: string): number | undefined {
  const found = text.split("\n").find((l) => l.startsWith(`${line} `));
  return found === undefined ? undefined : Number(found.slice(line.length + 1));
}

describe("ServiceMetrics", () => {
  it("registers only the families a service asks for", async () => {
    const m = new ServiceMetrics({ defaultMetrics: false });
    m.helm.ran("uninstall", Outcome.Success, 0.2);
    const text = await m.exposition();
    expect(text).toContain("# TYPE kubeplus_helm_run_duration_seconds histogram");
    expect(text).not.toContain("controller_runtime_");
    expect(text).not.toContain("workqueue_");
    expect(text).not.toContain("kubeplus_admission_");
    expect(text).not.toContain("process_cpu_seconds_total");
    expect(
      sample(
        text,
        'kubeplus_helm_run_duration_seconds_count{action="uninstall",outcome="success"}',
      ),
    ).toBe(1);
  });

  it("names reconciles and queues as controller-runtime and client-go do", async () => {
    const m = new ServiceMetrics({ defaultMetrics: false });
    const c = m.controller("instance", 4);
    const q = m.workQueue("instance");
    q.added();
    q.depth(1);
    q.started(0.01);
    c.reconciled(ReconcileResult.Success, 0.3);
    c.reconciled(ReconcileResult.Error, 0.1, true);
    q.retried();
    q.finished(0.3);
    const text = await m.exposition();
    expect(
      sample(text, 'controller_runtime_reconcile_total{controller="instance",result="success"}'),
    ).toBe(1);
    expect(
      sample(text, 'controller_runtime_reconcile_total{controller="instance",result="error"}'),
    ).toBe(1);
    expect(sample(text, 'controller_runtime_reconcile_errors_total{controller="instance"}')).toBe(
      1,
    );
    expect(
      sample(text, 'controller_runtime_terminal_reconcile_errors_total{controller="instance"}'),
    ).toBe(1);
    expect(
      sample(
        text,
        'controller_runtime_reconcile_time_seconds_bucket{le="0.35",controller="instance"}',
      ),
    ).toBe(2);
    expect(
      sample(text, 'controller_runtime_max_concurrent_reconciles{controller="instance"}'),
    ).toBe(4);
    expect(sample(text, 'workqueue_adds_total{name="instance"}')).toBe(1);
    expect(sample(text, 'workqueue_retries_total{name="instance"}')).toBe(1);
    expect(sample(text, 'workqueue_depth{name="instance"}')).toBe(1);
    expect(sample(text, 'workqueue_queue_duration_seconds_count{name="instance"}')).toBe(1);
    expect(sample(text, 'workqueue_work_duration_seconds_sum{name="instance"}')).toBeCloseTo(0.3);
  });

  it("reads the longest-running worker at each scrape", async () => {
    const m = new ServiceMetrics({ defaultMetrics: false });
    let seconds = 3;
    m.workQueue("q").longestRunning(() => seconds);
    expect(
      sample(await m.exposition(), 'workqueue_longest_running_processor_seconds{name="q"}'),
    ).toBe(3);
    seconds = 0;
    expect(
      sample(await m.exposition(), 'workqueue_longest_running_processor_seconds{name="q"}'),
    ).toBe(0);
  });

  it("times NATS requests and counts failures by their error code", async () => {
    const m = new ServiceMetrics({ defaultMetrics: false });
    const subject = "kubeplus.v1.helmer.render";
    await expect(m.nats.request(subject, () => Promise.resolve("ok"))).resolves.toBe("ok");
    const timeout = Object.assign(new Error("no answer"), { code: "Timeout" });
    await expect(m.nats.request(subject, () => Promise.reject(timeout))).rejects.toBe(timeout);
    await expect(m.nats.request(subject, () => Promise.reject(new Error("x")))).rejects.toThrow();
    const text = await m.exposition();
    expect(
      sample(
        text,
        `kubeplus_nats_request_duration_seconds_count{subject="${subject}",outcome="success"}`,
      ),
    ).toBe(1);
    expect(
      sample(text, `kubeplus_nats_request_failures_total{subject="${subject}",code="Timeout"}`),
    ).toBe(1);
    expect(
      sample(text, `kubeplus_nats_request_failures_total{subject="${subject}",code="Unknown"}`),
    ).toBe(1);
    // A service that only sends requests shows no handler family.
    expect(text).not.toContain("kubeplus_nats_handler_duration_seconds");
  });

  it("times the requests a service serves, failures included", async () => {
    const m = new ServiceMetrics({ defaultMetrics: false });
    const handler = m.nats.handle("kubeplus.v1.kubeconfig.generate", (n: number) =>
      n > 0 ? Promise.resolve(n) : Promise.reject(new Error("no")),
    );
    await handler(1);
    await expect(handler(0)).rejects.toThrow("no");
    const text = await m.exposition();
    expect(
      sample(
        text,
        'kubeplus_nats_handler_duration_seconds_count{subject="kubeplus.v1.kubeconfig.generate",outcome="failure"}',
      ),
    ).toBe(1);
    expect(text).not.toContain("kubeplus_nats_request_duration_seconds");
  });

  it("counts admission verdicts by webhook, kind and operation, and chart cache hits", async () => {
    const m = new ServiceMetrics({ defaultMetrics: false });
    const review = { webhook: "validate", kind: "WordpressService", operation: "CREATE" };
    m.admission.reviewed(review, Verdict.Denied, 0.002);
    m.admission.reviewed(review, Verdict.Allowed, 0.001);
    m.charts.lookup("render", true);
    m.charts.lookup("render", false);
    m.charts.fetched("http", Outcome.Success, 0.5);
    const text = await m.exposition();
    expect(
      sample(
        text,
        'kubeplus_admission_verdicts_total{webhook="validate",kind="WordpressService",operation="CREATE",verdict="denied"}',
      ),
    ).toBe(1);
    expect(
      sample(
        text,
        'kubeplus_admission_request_duration_seconds_count{webhook="validate",kind="WordpressService"}',
      ),
    ).toBe(2);
    expect(sample(text, 'kubeplus_chart_cache_lookups_total{cache="render",result="hit"}')).toBe(1);
    expect(sample(text, 'kubeplus_chart_cache_lookups_total{cache="render",result="miss"}')).toBe(
      1,
    );
    expect(
      sample(text, 'kubeplus_chart_fetch_duration_seconds_count{source="http",outcome="success"}'),
    ).toBe(1);
  });

  it("is served on the health server's /metrics with the process and Node runtime families", async () => {
    const m = new ServiceMetrics();
    m.helm.ran("template", Outcome.Failure, 1);
    let ready = false;
    const server = await startHealthServer(0, "127.0.0.1", { ready: () => ready, metrics: m });
    try {
      const base = `http://127.0.0.1:${String((server.address() as AddressInfo).port)}`;
      const res = await fetch(`${base}/metrics`);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toContain("text/plain");
      const text = await res.text();
      expect(sample(text, "process_cpu_seconds_total")).toBeGreaterThan(0);
      expect(text).toContain("# TYPE nodejs_eventloop_lag_seconds gauge");
      expect(text).toContain(
        'kubeplus_helm_run_duration_seconds_count{action="template",outcome="failure"} 1',
      );
      expect((await fetch(`${base}/readyz`)).status).toBe(503);
      ready = true;
      expect((await fetch(`${base}/readyz`)).status).toBe(200);
    } finally {
      server.close();
    }
  });
});
