export { createLogger, REDACTED_PATHS } from "./logger.js";
export type { Logger, LoggerOptions } from "./logger.js";
export { connectNats, NATS_ENV, natsConfig } from "./nats.js";
export type { NatsConfig, NatsCredential, NatsOptions } from "./nats.js";
export { startHealthServer } from "./health.js";
export type { HealthChecks } from "./health.js";
export { REPLICA_ENV, replicaConfig } from "./replica.js";
export type { ReplicaConfig } from "./replica.js";
export { positiveNumbers } from "./env.js";
export type { PositiveReader } from "./env.js";
export type { MetricsSource } from "./health.js";
export { Outcome, ReconcileResult, ServiceMetrics, secondsSince, Verdict } from "./metrics.js";
export type {
  AdmissionMetrics,
  ChartMetrics,
  ControllerMetrics,
  HelmMetrics,
  NatsMetrics,
  ServiceMetricsOptions,
  WorkQueueMetrics,
} from "./metrics.js";
export { watchNatsConnection } from "./nats-status.js";
export type { NatsReachability } from "./nats-status.js";
export { SpanKind, SpanStatusCode } from "@opentelemetry/api";
export {
  contextFromTraceparent,
  inSpan,
  startTracing,
  traceparentOf,
  tracingEnabled,
  TRACING_ENV,
  tracingConfig,
} from "./tracing.js";
export type { Tracing, TracingConfig } from "./tracing.js";
