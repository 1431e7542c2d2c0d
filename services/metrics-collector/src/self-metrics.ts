import type { ServiceMetrics } from "@kubeplus/runtime";

export interface PassFacts {
  readonly durationMs: number;
  readonly at: number;
  readonly failedNodes: number;
}

/**
 * The collector's own series, in the service's registry: how long a pass took, when, and what did not answer.
 * Returns the function each pass calls.
 */
export function selfMetrics(metrics: ServiceMetrics): (pass: PassFacts, instances: number) => void {
  const duration = metrics.gauge(
    "kubeplus_collector_pass_duration_seconds",
    "How long the last collection pass took.",
  );
  const last = metrics.gauge(
    "kubeplus_collector_last_pass_timestamp_seconds",
    "When the last collection pass ended.",
  );
  const passes = metrics.counter(
    "kubeplus_collector_passes_total",
    "Collection passes since the collector started.",
  );
  const metered = metrics.gauge(
    "kubeplus_collector_instances",
    "Instances metered by the last pass.",
  );
  const failed = metrics.gauge(
    "kubeplus_collector_nodes_failed",
    "Nodes whose kubelet did not answer in the last pass.",
  );
  return (pass, instances) => {
    duration.set(pass.durationMs / 1000);
    last.set(Math.floor(pass.at / 1000));
    passes.inc();
    metered.set(instances);
    failed.set(pass.failedNodes);
  };
}
