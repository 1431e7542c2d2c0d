export {
  addNodeSamples,
  addVolumeSamples,
  belongsTo,
  CARRY_COUNTER_MS,
  carryCounters,
  computeUsage,
} from "./compute.js";
export { appTargets, parseEqualitySelector, pickAppMetrics } from "./app-metrics.js";
export type { AppEndpoints, AppTarget } from "./app-metrics.js";
export type {
  CollectInput,
  InstanceFacts,
  Inventory,
  PodFacts,
  PodReading,
  Readings,
} from "./compute.js";
export { escapeLabel, parsePrometheusText } from "./prom-text.js";
export type { Sample } from "./prom-text.js";
export { accumulate, RECENT_POINTS, RECORD_DAYS } from "./record.js";
export type { DailyUsage, RecentPoint, UsageRecord } from "./record.js";
export { toJson, toPretty, toPrometheus } from "./render.js";
