import { DashboardCursorSync, type Dashboard, type Panel, type RowPanel } from "@grafana/schema";

// The KubePlus services' Grafana dashboard, typed by Grafana's own dashboard schema (@grafana/schema): a field or
// shape Grafana does not know fails `tsc`. generate-dashboard.ts writes it to deploy/grafana/; a unit test checks
// that the committed JSON is this, and that every query names a family the services register.

const DATASOURCE = { type: "prometheus", uid: "${datasource}" };
const WIDTH = 24;

interface Query {
  readonly expr: string;
  readonly legend: string;
}

interface PanelSpec {
  readonly title: string;
  readonly description: string;
  readonly unit: string;
  readonly queries: readonly Query[];
}

const rate = (series: string): string => `rate(${series}[$__rate_interval])`;
const p99 = (family: string, by: string): string =>
  `histogram_quantile(0.99, sum by (${by}, le) (${rate(`${family}_bucket`)}))`;

function timeseries(spec: PanelSpec, id: number, x: number, y: number): Panel {
  return {
    id,
    type: "timeseries",
    title: spec.title,
    description: spec.description,
    datasource: DATASOURCE,
    gridPos: { h: 8, w: WIDTH / 3, x, y },
    fieldConfig: { defaults: { unit: spec.unit }, overrides: [] },
    options: { legend: { displayMode: "list", placement: "bottom", showLegend: true } },
    targets: spec.queries.map((q, i) => ({
      refId: String.fromCharCode(65 + i),
      datasource: DATASOURCE,
      expr: q.expr,
      legendFormat: q.legend,
    })),
  };
}

const ROWS: readonly { readonly title: string; readonly panels: readonly PanelSpec[] }[] = [
  {
    title: "Reconciles (helmer)",
    panels: [
      {
        title: "Reconciles by result",
        description: "controller_runtime_reconcile_total per controller and result, per second.",
        unit: "ops",
        queries: [
          {
            expr: `sum by (controller, result) (${rate("controller_runtime_reconcile_total")})`,
            legend: "{{controller}} {{result}}",
          },
        ],
      },
      {
        title: "Reconcile latency p99",
        description: "How long one reconcile takes (controller_runtime_reconcile_time_seconds).",
        unit: "s",
        queries: [
          {
            expr: p99("controller_runtime_reconcile_time_seconds", "controller"),
            legend: "{{controller}}",
          },
        ],
      },
      {
        title: "Workers busy",
        description: "Active workers over the maximum of concurrent reconciles, per controller.",
        unit: "percentunit",
        queries: [
          {
            expr: "sum by (controller) (controller_runtime_active_workers) / sum by (controller) (controller_runtime_max_concurrent_reconciles)",
            legend: "{{controller}}",
          },
        ],
      },
      {
        title: "Work queue depth",
        description:
          "Keys waiting for a worker: a depth that keeps growing means the helmer does not keep up.",
        unit: "short",
        queries: [{ expr: "sum by (name) (workqueue_depth)", legend: "{{name}}" }],
      },
      {
        title: "Time in queue p99",
        description:
          "How long a key waited before a worker took it (workqueue_queue_duration_seconds).",
        unit: "s",
        queries: [{ expr: p99("workqueue_queue_duration_seconds", "name"), legend: "{{name}}" }],
      },
      {
        title: "Queue adds and work time",
        description:
          "Keys added per second, time a worker spends on one (p99), and the longest-running worker right now.",
        unit: "s",
        queries: [
          {
            expr: `sum by (name) (${rate("workqueue_adds_total")})`,
            legend: "adds/s {{name}}",
          },
          { expr: p99("workqueue_work_duration_seconds", "name"), legend: "work p99 {{name}}" },
          {
            expr: "max by (name) (workqueue_longest_running_processor_seconds)",
            legend: "longest running {{name}}",
          },
        ],
      },
      {
        title: "Errors and retries",
        description:
          "Failed reconciles (terminal ones are not retried) and keys put back with a backoff.",
        unit: "ops",
        queries: [
          {
            expr: `sum by (controller) (${rate("controller_runtime_reconcile_errors_total")})`,
            legend: "errors {{controller}}",
          },
          {
            expr: `sum by (controller) (${rate("controller_runtime_terminal_reconcile_errors_total")})`,
            legend: "terminal {{controller}}",
          },
          {
            expr: `sum by (name) (${rate("workqueue_retries_total")})`,
            legend: "retries {{name}}",
          },
        ],
      },
    ],
  },
  {
    title: "Helm and charts (helmer)",
    panels: [
      {
        title: "Helm run p99 by action",
        description: "One helm process: upgrade-install, uninstall, rollback, history, template.",
        unit: "s",
        queries: [
          { expr: p99("kubeplus_helm_run_duration_seconds", "action"), legend: "{{action}}" },
        ],
      },
      {
        title: "Helm runs by outcome",
        description: "helm processes per second, by action and outcome.",
        unit: "ops",
        queries: [
          {
            expr: `sum by (action, outcome) (${rate("kubeplus_helm_run_duration_seconds_count")})`,
            legend: "{{action}} {{outcome}}",
          },
        ],
      },
      {
        title: "Chart cache hit ratio and fetch p99",
        description:
          "Lookups answered from the chart and render caches, and how long a fetch takes by source.",
        unit: "percentunit",
        queries: [
          {
            expr: `sum by (cache) (${rate('kubeplus_chart_cache_lookups_total{result="hit"}')}) / sum by (cache) (${rate("kubeplus_chart_cache_lookups_total")})`,
            legend: "hit ratio {{cache}}",
          },
          {
            expr: p99("kubeplus_chart_fetch_duration_seconds", "source"),
            legend: "fetch p99 {{source}} (s)",
          },
        ],
      },
    ],
  },
  {
    title: "Admission (crd-hook) and NATS",
    panels: [
      {
        title: "Admission verdicts",
        description:
          "AdmissionReviews answered per second, by kind and verdict (allowed, denied, error).",
        unit: "ops",
        queries: [
          {
            expr: `sum by (kind, verdict) (${rate("kubeplus_admission_verdicts_total")})`,
            legend: "{{kind}} {{verdict}}",
          },
        ],
      },
      {
        title: "Admission latency p99",
        description: "Time to answer a review, by webhook (the apiserver waits for it).",
        unit: "s",
        queries: [
          {
            expr: p99("kubeplus_admission_request_duration_seconds", "webhook"),
            legend: "{{webhook}}",
          },
        ],
      },
      {
        title: "NATS requests: p99 and failures",
        description:
          "Requests a service sent (latency, failures by code) and the time servers took to answer.",
        unit: "s",
        queries: [
          {
            expr: p99("kubeplus_nats_request_duration_seconds", "subject"),
            legend: "request {{subject}}",
          },
          {
            expr: p99("kubeplus_nats_handler_duration_seconds", "subject"),
            legend: "handled {{subject}}",
          },
          {
            expr: `sum by (subject, code) (${rate("kubeplus_nats_request_failures_total")})`,
            legend: "failures/s {{subject}} {{code}}",
          },
        ],
      },
    ],
  },
  {
    title: "Processes",
    panels: [
      {
        title: "CPU",
        description: "CPU seconds per second of each service process.",
        unit: "percentunit",
        queries: [{ expr: rate("process_cpu_seconds_total"), legend: "{{job}} {{instance}}" }],
      },
      {
        title: "Memory (resident)",
        description: "Resident set size of each service process.",
        unit: "bytes",
        queries: [{ expr: "process_resident_memory_bytes", legend: "{{job}} {{instance}}" }],
      },
      {
        title: "Event loop lag p99",
        description: "A lag that grows means the process is CPU-bound.",
        unit: "s",
        queries: [{ expr: "nodejs_eventloop_lag_p99_seconds", legend: "{{job}} {{instance}}" }],
      },
    ],
  },
];

/** The dashboard: a row per concern, three panels a line. */
export function kubeplusDashboard(): Dashboard {
  const panels: (Panel | RowPanel)[] = [];
  let id = 1;
  let y = 0;
  for (const row of ROWS) {
    panels.push({
      id: id++,
      type: "row",
      title: row.title,
      collapsed: false,
      gridPos: { h: 1, w: WIDTH, x: 0, y },
      panels: [],
    });
    y += 1;
    row.panels.forEach((spec, i) => {
      panels.push(timeseries(spec, id++, (i % 3) * (WIDTH / 3), y + Math.floor(i / 3) * 8));
    });
    y += Math.ceil(row.panels.length / 3) * 8;
  }
  return {
    uid: "kubeplus-services",
    title: "KubePlus services",
    description:
      "Reconciles, work queues, helm runs, charts, admission, NATS and the processes of the KubePlus services (their /metrics).",
    tags: ["kubeplus"],
    editable: true,
    graphTooltip: DashboardCursorSync.Crosshair,
    schemaVersion: 41,
    time: { from: "now-1h", to: "now" },
    refresh: "30s",
    timezone: "browser",
    templating: {
      list: [
        {
          name: "datasource",
          label: "Prometheus",
          type: "datasource",
          query: "prometheus",
        },
      ],
    },
    annotations: { list: [] },
    links: [],
    panels,
  };
}
