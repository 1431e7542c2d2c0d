import { createServer, type Server } from "node:http";

export interface HealthChecks {
  /** The process works (event loop turning, no fatal state). A failing liveness probe restarts the container. */
  readonly live?: () => boolean;
  /** Ready to do its job (connected, caches synced). A failing readiness probe takes it out of its Service. */
  readonly ready: () => boolean;
  /** Extra facts shown in the body of /readyz (for example whether this replica leads). */
  readonly details?: () => Record<string, unknown>;
}

/**
 * `/healthz` and `/readyz` on plain HTTP for the kubelet's probes: 200 when the check passes, 503 otherwise, with a
 * small JSON body saying why. Resolves once listening; port 0 picks a free one (see `address()`).
 */
export async function startHealthServer(
  port: number,
  host: string,
  checks: HealthChecks,
): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    const check = path === "/healthz" ? (checks.live ?? (() => true)) : checks.ready;
    if (path !== "/healthz" && path !== "/readyz") {
      res.writeHead(404, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: `no such path ${path ?? ""}; try /healthz or /readyz` }));
      return;
    }
    const ok = check();
    res.writeHead(ok ? 200 : 503, { "content-type": "application/json" });
    res.end(JSON.stringify({ ok, ...(checks.details?.() ?? {}) }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, resolve);
  });
  return server;
}
