#!/usr/bin/env node
import { createServer } from "node:http";
import type { InstanceUsage } from "@kubeplus/contracts";
import { publish, serve, Subjects } from "@kubeplus/contracts";
import { loadApiAccess, startLeaderElection, whoAmI } from "@kubeplus/kube/lite";
import { toPrometheus } from "@kubeplus/metering";
import {
  connectNats,
  createLogger,
  ServiceMetrics,
  startHealthServer,
  startTracing,
  tracingConfig,
} from "@kubeplus/runtime";
import { Collector, pool } from "./collector.js";
import { loadConfig } from "./config.js";
import { UsageRecords } from "./records.js";
import { selfMetrics } from "./self-metrics.js";

const config = loadConfig(process.env);
const log = createLogger({ service: "metrics-collector", level: config.logLevel });
// Before anything that can start a span: without OTEL_EXPORTER_OTLP_ENDPOINT this registers nothing.
const tracing = await startTracing("metrics-collector", tracingConfig(process.env));
const metrics = new ServiceMetrics();
const observePass = selfMetrics(metrics);
// The light loader: client-node is never imported for a static kubeconfig or a service account (memory).
const kc = await loadApiAccess(config.kubeconfig, process.env);
const identity = await whoAmI(kc);
const collector = new Collector(kc, config.concurrency, config.kubeletAccess);
const records = new UsageRecords(kc, (3 * config.intervalMs) / 1000);

// Served from the last pass: a scrape costs a string copy, never a collection.
let latest: InstanceUsage[] = [];
let exposition = toPrometheus([]);
let lastPass = { durationMs: 0, at: 0, nodes: 0, failedNodes: 0, passes: 0 };

const nc = await connectNats({
  ...config.nats,
  name: "metrics-collector",
  waitOnFirstConnect: true,
});

// Every replica meters and serves; only the Lease holder writes the usage records (one writer per record).
const election = startLeaderElection(kc, {
  namespace: config.namespace,
  name: "kubeplus-metrics-collector",
  identity: config.identity,
  onStartedLeading: () => {
    log.info({ identity: config.identity }, "leading: writing usage records");
  },
  onStoppedLeading: () => {
    records.clear();
    log.warn("lost the leader lease; no longer writing usage records");
  },
  onError: (err) => {
    log.warn({ err }, "leader election attempt failed; retrying");
  },
});

async function writeRecords(usages: InstanceUsage[]): Promise<void> {
  if (!election.isLeader()) return;
  let failed = 0;
  await pool(usages, config.concurrency, (usage) =>
    records.write(usage).catch((err: unknown) => {
      failed++;
      log.debug({ err, instance: `${usage.namespace}/${usage.name}` }, "usage record not written");
    }),
  );
  if (failed > 0)
    log.warn(
      { failed, total: usages.length },
      "some usage records were not written; retrying next pass",
    );
}

let timer: NodeJS.Timeout | undefined;
async function collect(): Promise<void> {
  try {
    const result = await collector.pass();
    latest = result.usages;
    exposition = toPrometheus(latest);
    lastPass = {
      durationMs: result.durationMs,
      at: Date.now(),
      nodes: result.nodes,
      failedNodes: result.failedNodes.length,
      passes: lastPass.passes + 1,
    };
    observePass(lastPass, latest.length);
    for (const usage of latest) publish(nc, "InstanceMetered", usage);
    if (result.failedNodes.length > 0)
      log.warn(
        { nodes: result.failedNodes },
        "some nodes did not answer; their pods' usage is missing",
      );
    log.debug({ instances: latest.length, durationMs: result.durationMs }, "collection pass done");
    await writeRecords(latest);
  } catch (err) {
    log.error({ err }, "collection pass failed; retrying next interval");
  }
  timer = setTimeout(() => void collect(), config.intervalMs);
}

const http = createServer((req, res) => {
  const path = (req.url ?? "/").split("?")[0];
  if (path === "/metrics") {
    // The tenants' usage, then the collector's own families (the same registry its health port serves).
    void metrics.exposition().then((own) => {
      res.writeHead(200, { "content-type": metrics.contentType });
      res.end(exposition + own);
    });
    return;
  }
  if (path === "/v1/usage") {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify(latest));
    return;
  }
  res.writeHead(404, { "content-type": "text/plain" });
  res.end("not found: try /metrics or /v1/usage\n");
});
await new Promise<void>((resolve) => http.listen(config.port, config.host, resolve));

const subscription = serve(
  nc,
  "MetricsCollect",
  metrics.nats.handle(Subjects.MetricsCollect.subject, async (req) => {
    const result = await collector.pass(
      (kind, item) =>
        kind.kind === req.kind &&
        item.metadata.name === req.name &&
        item.metadata.namespace === req.namespace,
    );
    const usage = result.usages[0];
    if (!usage)
      throw new Error(`no ${req.kind} ${req.namespace}/${req.name} with a Helm release found`);
    return usage;
  }),
  (err) => {
    log.info({ err }, "collect request failed");
  },
);

await collect();
const health = await startHealthServer(config.healthPort, config.healthHost, {
  ready: () => lastPass.passes > 0,
  details: () => ({ leader: election.isLeader(), lastPassMs: lastPass.durationMs }),
  metrics,
});
log.info(
  {
    namespace: config.namespace,
    identity,
    metrics: http.address(),
    health: health.address(),
    intervalMs: config.intervalMs,
    tracing: tracing.enabled,
  },
  "metrics-collector started",
);

async function shutdown(signal: string): Promise<void> {
  log.info({ signal }, "shutting down");
  if (timer) clearTimeout(timer);
  subscription.unsubscribe();
  await election.release().catch(() => undefined);
  http.close();
  health.close();
  await nc.drain().catch(() => undefined);
  await tracing.shutdown();
  process.exit(0);
}
process.once("SIGTERM", () => void shutdown("SIGTERM"));
process.once("SIGINT", () => void shutdown("SIGINT"));
