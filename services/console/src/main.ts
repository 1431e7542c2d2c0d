#!/usr/bin/env node
import { readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { createLogger, ServiceMetrics, startHealthServer } from "@kubeplus/runtime";
import { Apiserver } from "./apiserver.js";
import { loadConfig } from "./config.js";
import { createConsoleApp } from "./server.js";
import { SessionStore } from "./sessions.js";

const config = loadConfig(process.env);
const log = createLogger({ service: "console", level: config.logLevel });
const metrics = new ServiceMetrics();
const signIns = {
  accepted: metrics.counter("kubeplus_console_sign_ins_total", "Sign-ins the apiserver accepted"),
  refused: metrics.counter(
    "kubeplus_console_sign_in_refusals_total",
    "Sign-ins refused (not a usable kubeconfig, or a credential the apiserver did not accept)",
  ),
};
const sessionGauge = metrics.gauge("kubeplus_console_sessions", "Signed-in sessions held now");

function readCa(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (err) {
    log.fatal(
      { err, file },
      "cannot read the apiserver's CA bundle: set CONSOLE_APISERVER_CA_FILE (the chart mounts ConfigMap kube-root-ca.crt)",
    );
    process.exit(1);
  }
}
const apiserver = new Apiserver(config.apiserverUrl, readCa(config.apiserverCaFile));
const sessions = new SessionStore({ idleMs: config.sessionIdleMs, maxMs: config.sessionMaxMs });
const sweeper = setInterval(() => {
  const removed = sessions.sweep();
  if (removed > 0) log.info({ removed }, "expired sessions forgotten");
  sessionGauge.set(sessions.size);
}, 30_000);

const app = createConsoleApp({
  apiserver,
  sessions,
  webDir: config.webDir,
  secureCookies: config.secureCookies,
  log,
  onSignIn: (result) => {
    signIns[result].inc();
    sessionGauge.set(sessions.size);
  },
});
const server = app.listen(config.port, config.bindAddress);
await new Promise<void>((resolve, reject) => {
  server.once("listening", resolve);
  server.once("error", reject);
});
const health = await startHealthServer(config.healthPort, config.healthHost, {
  ready: () => server.listening,
  details: () => ({ sessions: sessions.size }),
  metrics,
});
const address = server.address() as AddressInfo;
log.info(
  {
    address: `${address.address}:${String(address.port)}`,
    health: health.address(),
    apiserver: config.apiserverUrl,
    web: config.webDir,
  },
  "console started",
);

function shutdown(signal: string): void {
  log.info({ signal }, "shutting down");
  clearInterval(sweeper);
  server.close();
  server.closeAllConnections();
  health.close();
  apiserver.close();
  process.exit(0);
}
process.once("SIGTERM", () => {
  shutdown("SIGTERM");
});
process.once("SIGINT", () => {
  shutdown("SIGINT");
});
