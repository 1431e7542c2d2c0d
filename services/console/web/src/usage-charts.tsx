/**
 * An instance's CPU, memory, storage and network over time, as charts (SVG drawn here: no charting library). The
 * figures come from the metrics-collector's ConfigMap beside the release, watched: each pass it writes while the page
 * is open adds a point.
 */
import type { JSX } from "preact";
import { useEffect, useState } from "preact/hooks";
import { resourcePath, type Api } from "./api.js";
import {
  addSample,
  formatValue,
  gauge,
  rate,
  scalePoints,
  usageConfigMapName,
  usageSample,
  type Point,
  type UsageSample,
} from "./metrics.js";
import { errorText } from "./ui.js";
import { useWatchedList } from "./use-watched-list.js";
import type { Listed } from "./watch.js";

const W = 300;
const H = 80;

interface ChartSpec {
  readonly metric: string;
  readonly title: string;
  readonly unit: "cores" | "bytes" | "bytes/s";
  readonly points: (series: readonly UsageSample[]) => Point[];
}

const CHARTS: readonly ChartSpec[] = [
  { metric: "cpu", title: "CPU", unit: "cores", points: (s) => gauge(s, "cpuCores") },
  { metric: "memory", title: "Memory", unit: "bytes", points: (s) => gauge(s, "memoryBytes") },
  { metric: "storage", title: "Storage", unit: "bytes", points: (s) => gauge(s, "storageBytes") },
  {
    metric: "network-receive",
    title: "Network in",
    unit: "bytes/s",
    points: (s) => rate(s, "networkReceiveBytes"),
  },
  {
    metric: "network-transmit",
    title: "Network out",
    unit: "bytes/s",
    points: (s) => rate(s, "networkTransmitBytes"),
  },
];

export function UsageCharts(props: {
  readonly api: Api;
  readonly namespace: string;
  readonly release: string;
}): JSX.Element {
  const { items, error } = useWatchedList<Listed>(
    props.api,
    resourcePath({ group: "", version: "v1" }, "configmaps", props.namespace),
    { fieldSelector: `metadata.name=${usageConfigMapName(props.release)}` },
  );
  const [series, setSeries] = useState<readonly UsageSample[]>([]);
  const configMap = items?.[0];
  useEffect(() => {
    const s = configMap ? usageSample(configMap) : undefined;
    if (s) setSeries((prev) => addSample(prev, s));
  }, [configMap]);

  return (
    <section id="usage" aria-labelledby="usage-title">
      <h2 id="usage-title">Usage</h2>
      {error !== undefined ? (
        <p id="usage-error">Usage is not available: {errorText(error)}</p>
      ) : series.length === 0 ? (
        <p id="usage-empty">
          No usage measured yet (the metrics-collector writes a pass every interval).
        </p>
      ) : (
        <>
          <p class="muted">
            One point per pass of the metrics-collector since this page was opened; network as a
            rate between passes.
          </p>
          <div class="charts">
            {CHARTS.map((c) => (
              <Chart key={c.metric} spec={c} points={c.points(series)} />
            ))}
          </div>
        </>
      )}
    </section>
  );
}

function Chart(props: {
  readonly spec: ChartSpec;
  readonly points: readonly Point[];
}): JSX.Element {
  const { spec, points } = props;
  const last = points[points.length - 1];
  const { path, max } = scalePoints(points, W, H);
  const latest = last ? formatValue(last.value, spec.unit) : "not measured";
  const label = last
    ? `${spec.title}: latest ${latest}, highest ${formatValue(max, spec.unit)}, ${points.length} points`
    : `${spec.title}: not measured`;
  return (
    <figure class="chart" data-testid="usage-chart" data-metric={spec.metric}>
      <figcaption>
        {spec.title}: <span data-testid="usage-latest">{latest}</span>
      </figcaption>
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={label} preserveAspectRatio="none">
        <line class="axis" x1="0" y1={H} x2={W} y2={H} />
        {points.length > 1 && <polyline points={path} />}
        {points.length === 1 && <circle cx={W - 3} cy={path.split(",")[1] ?? H} r="3" />}
      </svg>
      <p class="muted small">max {formatValue(max, spec.unit)}</p>
    </figure>
  );
}
