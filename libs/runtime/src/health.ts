import { createServer, type Server, type ServerResponse } from "node:http";

/** What `/metrics` serves: a service's registry (metrics.ts). */
export interface MetricsSource {
  exposition(): Promise<string>;
  readonly contentType: string;
}

export interface HealthChecks {
  /** The process works (event loop turning, no fatal state). A failing liveness probe restarts the container. */
  readonly live?: () => boolean;
  /** Ready to do its job (connected, caches synced). A failing readiness probe takes it out of its Service. */
  readonly ready: () => boolean;
  /** Extra facts shown in the body of /readyz (for example whether this replica leads). */
  readonly details?: () => Record<string, unknown>;
  /** Served on `/metrics` (Prometheus text format) when given. */
  readonly metrics?: MetricsSource;
}

function serveMetrics(metrics: MetricsSource, res: ServerResponse): void {
  metrics.exposition().then(
    (text) => {
      res.writeHead(200, { "content-type": metrics.contentType });
      res.end(text);
    },
    (err: unknown) => {
      res.writeHead(500, { "content-type": "text/plain" });
      res.end(`metrics could not be collected: ${String(err)}\n`);
    },
  );
}

function answerProbe(path: string, checks: HealthChecks, res: ServerResponse): void {
  if (path !== "/healthz" && path !== "/readyz") {
    res.writeHead(404, { "content-type": "application/json" });
    const paths = checks.metrics ? "/healthz, /readyz or /metrics" : "/healthz or /readyz";
    res.end(JSON.stringify({ error: `no such path ${path}; try ${paths}` }));
    return;
  }
  const ok = path === "/healthz" ? (checks.live?.() ?? true) : checks.ready();
  res.writeHead(ok ? 200 : 503, { "content-type": "application/json" });
  res.end(JSON.stringify({ ok, ...(checks.details?.() ?? {}) }));
}

/**
 * `/healthz` and `/readyz` on plain HTTP for the kubelet's probes: 200 when the check passes, 503 otherwise, with a
 * small JSON body saying why; `/metrics` for Prometheus when the service gives its registry. Resolves once
 * listening; port 0 picks a free one (see `address()`).
 */
export async function startHealthServer(
  port: number,
  host: string,
  checks: HealthChecks,
): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    if (path === "/metrics" && checks.metrics) serveMetrics(checks.metrics, res);
    else answerProbe(path, checks, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, resolve);
  });
  return server;
}
