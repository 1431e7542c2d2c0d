/** The collector's own series: how long a pass took, when, and what did not answer. */
export function selfMetrics(
  pass: { durationMs: number; at: number; nodes: number; failedNodes: number; passes: number },
  instances: number,
): string {
  return [
    "# HELP kubeplus_collector_pass_duration_seconds How long the last collection pass took.",
    "# TYPE kubeplus_collector_pass_duration_seconds gauge",
    `kubeplus_collector_pass_duration_seconds ${String(pass.durationMs / 1000)}`,
    "# HELP kubeplus_collector_last_pass_timestamp_seconds When the last collection pass ended.",
    "# TYPE kubeplus_collector_last_pass_timestamp_seconds gauge",
    `kubeplus_collector_last_pass_timestamp_seconds ${String(Math.floor(pass.at / 1000))}`,
    "# HELP kubeplus_collector_passes_total Collection passes since the collector started.",
    "# TYPE kubeplus_collector_passes_total counter",
    `kubeplus_collector_passes_total ${String(pass.passes)}`,
    "# HELP kubeplus_collector_instances Instances metered by the last pass.",
    "# TYPE kubeplus_collector_instances gauge",
    `kubeplus_collector_instances ${String(instances)}`,
    "# HELP kubeplus_collector_nodes_failed Nodes whose kubelet did not answer in the last pass.",
    "# TYPE kubeplus_collector_nodes_failed gauge",
    `kubeplus_collector_nodes_failed ${String(pass.failedNodes)}`,
    "",
  ].join("\n");
}
