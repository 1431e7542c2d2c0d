import { createHash } from "node:crypto";
import {
  fetchChart,
  parseChartURL,
  renderChart,
  type FetchDeps,
  type FetchedChart,
  type RenderedObject,
} from "@kubeplus/charts";
import { inSpan, Outcome, secondsSince, SpanKind, type ServiceMetrics } from "@kubeplus/runtime";
import { Lru } from "./lru.js";

export interface ChartStoreOptions {
  readonly fetch: FetchDeps;
  /** How long an http(s)/oci chart is reused before it is fetched again (uploaded charts: until replaced). */
  readonly urlTtlMs: number;
  readonly renderCacheEntries: number;
  readonly renderTimeoutMs: number;
  readonly kubeVersion?: string;
  /** The digest an uploaded chart has now (from the cluster), to notice a re-upload. */
  readonly uploadedDigest: (file: string) => string | undefined;
  readonly now?: () => number;
  /** Chart fetches and cache lookups; each render is a helm run (`template`). */
  readonly metrics?: ServiceMetrics;
}

/** Times `work` and reports its outcome and duration in seconds. */
async function timed<T>(
  work: () => Promise<T>,
  report: (outcome: Outcome, seconds: number) => void,
): Promise<T> {
  const started = performance.now();
  let outcome: Outcome = Outcome.Failure;
  try {
    const result = await work();
    outcome = Outcome.Success;
    return result;
  } finally {
    report(outcome, secondsSince(started));
  }
}

export interface RenderInput {
  readonly releaseName: string;
  readonly namespace: string;
  readonly values: Record<string, unknown>;
}

interface CachedChart {
  readonly chart: FetchedChart;
  readonly at: number;
}

const valuesHash = (values: unknown): string =>
  createHash("sha256").update(JSON.stringify(values)).digest("hex");

/**
 * Charts and renders, cached: a chart by URL for a short TTL (an uploaded one until its digest changes), a verified
 * archive by digest, and a render by digest, release, namespace and values. Concurrent identical requests share one
 * fetch or render.
 */
export class ChartStore {
  private readonly byUrl = new Map<string, CachedChart>();
  private readonly renders: Lru<string, RenderedObject[]>;
  private readonly inflight = new Map<string, Promise<unknown>>();
  private readonly options: ChartStoreOptions;

  constructor(options: ChartStoreOptions) {
    this.options = options;
    this.renders = new Lru(options.renderCacheEntries);
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  private once<T>(key: string, work: () => Promise<T>): Promise<T> {
    const running = this.inflight.get(key) as Promise<T> | undefined;
    if (running) return running;
    const promise = work().finally(() => this.inflight.delete(key));
    this.inflight.set(key, promise);
    return promise;
  }

  private isFresh(chartURL: string, cached: CachedChart): boolean {
    const source = parseChartURL(chartURL);
    if (source.type === "uploaded")
      return this.options.uploadedDigest(source.file) === cached.chart.digest;
    return this.now() - cached.at < this.options.urlTtlMs;
  }

  /** The checked chart for a composition's chartURL and chartName. */
  async chart(chartURL: string, chartName: string): Promise<FetchedChart> {
    const key = `${chartURL}\n${chartName}`;
    const cached = this.byUrl.get(key);
    const fresh = cached && this.isFresh(chartURL, cached);
    this.options.metrics?.charts.lookup("chart", !!fresh);
    if (cached && fresh) return cached.chart;
    return this.once(`chart:${key}`, async () => {
      const source = parseChartURL(chartURL).type;
      const chart = await timed(
        () => fetchChart(chartURL, chartName, this.options.fetch),
        (outcome, seconds) => this.options.metrics?.charts.fetched(source, outcome, seconds),
      );
      this.byUrl.set(key, { chart, at: this.now() });
      return chart;
    });
  }

  /** `helm template` of a chart, cached by digest, release, namespace and values. */
  async render(chart: FetchedChart, input: RenderInput): Promise<RenderedObject[]> {
    const key = `${chart.digest}\n${input.releaseName}\n${input.namespace}\n${valuesHash(input.values)}`;
    const cached = this.renders.get(key);
    this.options.metrics?.charts.lookup("render", !!cached);
    if (cached) return cached;
    return this.once(`render:${key}`, async () => {
      const objects = await timed(
        () =>
          inSpan(
            "helm template",
            {
              kind: SpanKind.CLIENT,
              attributes: {
                "kubeplus.helm.action": "template",
                "kubeplus.helm.release": input.releaseName,
                "k8s.namespace.name": input.namespace,
              },
            },
            () =>
              renderChart({
                helmBin: this.options.fetch.helmBin,
                chartPath: chart.path,
                releaseName: input.releaseName,
                namespace: input.namespace,
                values: input.values,
                timeoutMs: this.options.renderTimeoutMs,
                ...(this.options.kubeVersion ? { kubeVersion: this.options.kubeVersion } : {}),
                ...(this.options.fetch.env ? { env: this.options.fetch.env } : {}),
              }),
          ),
        (outcome, seconds) => this.options.metrics?.helm.ran("template", outcome, seconds),
      );
      this.renders.set(key, objects);
      return objects;
    });
  }
}
