import {
  context,
  INVALID_SPAN_CONTEXT,
  propagation,
  ROOT_CONTEXT,
  SpanStatusCode,
  trace,
  type Context,
  type Span,
  type SpanOptions,
} from "@opentelemetry/api";

// Every service's traces, through one module (OpenTelemetry). Code everywhere uses only `@opentelemetry/api`
// (through `inSpan` here, or the API directly in `@kubeplus/contracts`): without a registered provider, which is the
// case unless OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set, every span is the API's
// non-recording no-op, no context manager runs, nothing is propagated, and the SDK is never even loaded. With an
// endpoint, `startTracing` registers the SDK: a batching OTLP/HTTP (JSON) exporter, W3C trace context propagation
// (`traceparent`) and an AsyncLocalStorage context manager, so that a span started inside another one's callback is
// its child. Span names and links: docs/observability.md.

/** The variables `tracingConfig` reads (the OpenTelemetry SDK's own names; the exporter also reads its others). */
export const TRACING_ENV = {
  OTEL_EXPORTER_OTLP_ENDPOINT: {
    default: "",
    doc: "OTLP/HTTP collector base URL (traces go to <url>/v1/traces); unset: no tracing at all",
  },
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: {
    default: "",
    doc: "the full OTLP/HTTP traces URL, instead of OTEL_EXPORTER_OTLP_ENDPOINT",
  },
  OTEL_SERVICE_NAME: { default: "<service>", doc: "service.name of this service's spans" },
  OTEL_TRACES_SAMPLER_ARG: {
    default: "1",
    doc: "fraction of new traces recorded (0..1); a traced request's spans follow its caller's decision",
  },
  OTEL_BSP_SCHEDULE_DELAY: { default: "5000", doc: "ms between two exports of the spans batched" },
} as const;

/** The tracing part of a service's configuration. */
export interface TracingConfig {
  /** Where spans are sent (OTLP/HTTP, JSON); undefined: tracing is off. */
  readonly url?: string;
  /** Overrides the service's own name as `service.name`. */
  readonly serviceName?: string;
  /** Fraction of root traces sampled. */
  readonly sampleRatio: number;
  /** Milliseconds between two exports. */
  readonly exportDelayMs: number;
}

/** Reads TRACING_ENV; a sampler ratio outside 0..1 is a configuration error. */
export function tracingConfig(env: NodeJS.ProcessEnv): TracingConfig {
  const read = (name: keyof typeof TRACING_ENV): string | undefined =>
    env[name]?.trim() === "" ? undefined : env[name]?.trim();
  const base = read("OTEL_EXPORTER_OTLP_ENDPOINT");
  const url =
    read("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") ??
    (base ? `${base.replace(/\/+$/, "")}/v1/traces` : undefined);
  const rawRatio = read("OTEL_TRACES_SAMPLER_ARG") ?? "1";
  const sampleRatio = Number(rawRatio);
  if (!Number.isFinite(sampleRatio) || sampleRatio < 0 || sampleRatio > 1)
    throw new Error(`OTEL_TRACES_SAMPLER_ARG must be a number between 0 and 1 (got '${rawRatio}')`);
  const rawDelay = read("OTEL_BSP_SCHEDULE_DELAY") ?? TRACING_ENV.OTEL_BSP_SCHEDULE_DELAY.default;
  const exportDelayMs = Number(rawDelay);
  if (!Number.isInteger(exportDelayMs) || exportDelayMs <= 0)
    throw new Error(`OTEL_BSP_SCHEDULE_DELAY must be a whole number of ms (got '${rawDelay}')`);
  const serviceName = read("OTEL_SERVICE_NAME");
  return {
    ...(url ? { url } : {}),
    ...(serviceName ? { serviceName } : {}),
    sampleRatio,
    exportDelayMs,
  };
}

export interface Tracing {
  /** A provider is registered and spans are exported. */
  readonly enabled: boolean;
  /** Exports what is buffered and stops (call on shutdown). */
  shutdown(): Promise<void>;
}

const OFF: Tracing = { enabled: false, shutdown: () => Promise.resolve() };

/** Set once startTracing registers the SDK; until then inSpan does not even ask the API for a no-op span. */
let registered = false;
/** Whether startTracing registered the SDK: a hot path may skip building a span's name and attributes. */
export function tracingEnabled(): boolean {
  return registered;
}

/** The span inSpan hands to its callback while tracing is off: the API's non-recording span. */
const NOT_RECORDING = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);

/**
 * Registers the OpenTelemetry SDK when the configuration names an endpoint; otherwise does nothing at all (the SDK's
 * modules are loaded only here, on demand).
 */
export async function startTracing(service: string, config: TracingConfig): Promise<Tracing> {
  if (!config.url) return OFF;
  const [{ AsyncLocalStorageContextManager }, core, resources, sdk, { OTLPTraceExporter }] =
    await Promise.all([
      import("@opentelemetry/context-async-hooks"),
      import("@opentelemetry/core"),
      import("@opentelemetry/resources"),
      import("@opentelemetry/sdk-trace"),
      import("@opentelemetry/exporter-trace-otlp-http"),
    ]);
  const provider = new sdk.TracerProvider({
    resource: resources.resourceFromAttributes({
      "service.name": config.serviceName ?? service,
    }),
    sampler: new sdk.ParentBasedSampler({
      root:
        config.sampleRatio >= 1
          ? new sdk.AlwaysOnSampler()
          : new sdk.TraceIdRatioBasedSampler(config.sampleRatio),
    }),
    spanProcessors: [
      new sdk.BatchSpanProcessor({
        exporter: new OTLPTraceExporter({ url: config.url }),
        scheduledDelayMillis: config.exportDelayMs,
      }),
    ],
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new core.W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  registered = true;
  return { enabled: true, shutdown: () => provider.shutdown() };
}

const tracer = (): ReturnType<typeof trace.getTracer> => trace.getTracer("kubeplus");

/**
 * Runs `fn` in a new span, active for everything `fn` starts (its children); the span ends when `fn` settles, with
 * an error status when it throws. `parent` replaces the active context (a context carried in from elsewhere).
 */
export function inSpan<T>(
  name: string,
  options: SpanOptions & { readonly parent?: Context },
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  if (!registered) return fn(NOT_RECORDING);
  const { parent, ...spanOptions } = options;
  return tracer().startActiveSpan(
    name,
    spanOptions,
    parent ?? context.active(),
    async (span): Promise<T> => {
      try {
        return await fn(span);
      } catch (err) {
        span.setStatus({
          code: SpanStatusCode.ERROR,
          message: err instanceof Error ? err.message : String(err),
        });
        throw err;
      } finally {
        span.end();
      }
    },
  );
}

/** The active span's W3C `traceparent`, when a recording span is active; undefined otherwise (tracing off). */
export function traceparentOf(ctx: Context = context.active()): string | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  return carrier.traceparent;
}

/** A parent context from a W3C `traceparent` handed over by another process (the root context without one). */
export function contextFromTraceparent(traceparent: string | undefined): Context {
  if (!traceparent) return ROOT_CONTEXT;
  return propagation.extract(ROOT_CONTEXT, { traceparent });
}
