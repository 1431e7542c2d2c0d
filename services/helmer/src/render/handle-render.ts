import { ChartError, PROBE_NAMESPACE, PROBE_RELEASE } from "@kubeplus/charts";
import {
  ContractError,
  ErrorCode,
  type RenderReply,
  type RenderRequest,
} from "@kubeplus/contracts";
import type { ChartStore } from "../charts/chart-store.js";
import type { RateLimiter } from "./rate-limit.js";

function toContractError(err: unknown): unknown {
  if (err instanceof ChartError) return new ContractError(err.code, err.message, { cause: err });
  return err;
}

/** Who asks (its NATS connection) and the per-caller limit the request counts against. */
export interface RenderCaller {
  readonly caller: string;
  readonly limiter: RateLimiter;
}

/**
 * Answers a render request: the chart's identity, default values, values schema, CRDs and rendered objects. A
 * caller over its rate gets an Unavailable error saying when to retry, before anything is fetched.
 */
export async function handleRender(
  store: ChartStore,
  req: RenderRequest,
  from?: RenderCaller,
): Promise<RenderReply> {
  const decision = from?.limiter.take(from.caller);
  if (decision && !decision.allowed)
    throw new ContractError(
      ErrorCode.Unavailable,
      `too many render requests from this caller: retry in ${String(Math.ceil(decision.retryInMs / 1000))} s (the helmer's RENDER_BURST and RENDER_RATE_PER_MINUTE)`,
    );
  try {
    const chart = await store.chart(req.chartURL, req.chartName);
    const objects = await store.render(chart, {
      releaseName: req.releaseName ?? PROBE_RELEASE,
      namespace: req.namespace ?? PROBE_NAMESPACE,
      values: req.values ?? {},
    });
    return {
      version: 1,
      chart: {
        name: chart.metadata.name,
        version: chart.metadata.version,
        digest: chart.digest,
        ...(chart.metadata.appVersion ? { appVersion: chart.metadata.appVersion } : {}),
      },
      objects: objects.map((o) => o.object),
      crds: [...chart.crds],
      values: chart.values,
      ...(chart.valuesSchema ? { valuesSchema: chart.valuesSchema } : {}),
    };
  } catch (err) {
    throw toContractError(err);
  }
}
