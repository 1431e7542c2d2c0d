import { ChartError, PROBE_NAMESPACE, PROBE_RELEASE } from "@kubeplus/charts";
import { ContractError, type RenderReply, type RenderRequest } from "@kubeplus/contracts";
import type { ChartStore } from "../charts/chart-store.js";

function toContractError(err: unknown): unknown {
  if (err instanceof ChartError) return new ContractError(err.code, err.message, { cause: err });
  return err;
}

/** Answers a render request: the chart's identity, default values, values schema, CRDs and rendered objects. */
export async function handleRender(store: ChartStore, req: RenderRequest): Promise<RenderReply> {
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
