#!/usr/bin/env node
import { join } from "node:path";
import { VersionApi } from "@kubernetes/client-node";
import { serve, Subjects } from "@kubeplus/contracts";
import { loadKubeConfig, startLeaderElection, whoAmI } from "@kubeplus/kube";
import {
  connectNats,
  createLogger,
  ServiceMetrics,
  startHealthServer,
  startTracing,
  tracingConfig,
  watchNatsConnection,
  type NatsReachability,
} from "@kubeplus/runtime";
import { ChartStore } from "./charts/chart-store.js";
import { watchUploadedCharts } from "./charts/uploaded-charts.js";
import { loadConfig } from "./config.js";
import { startCompositionController } from "./reconcile/composition-controller.js";
import { startInstanceController } from "./reconcile/instance-controller.js";
import { Bus } from "./bus.js";
import { DEFAULT_POST_RENDER_BIN, installPostRendererPlugin } from "./helm/post-renderer-plugin.js";
import { PostRenderServer } from "./helm/post-render-server.js";
import { FleetSlots } from "./reconcile/fleet-slots.js";
import type { InstanceController } from "./reconcile/instance-controller.js";
import { handleRender } from "./render/handle-render.js";
import { RateLimiter } from "./render/rate-limit.js";
import { serviceAccountOf } from "./reconcile/instance-desired.js";

const config = loadConfig(process.env);
const log = createLogger({ service: "helmer", level: config.logLevel });
// Before anything that can start a span: without OTEL_EXPORTER_OTLP_ENDPOINT this registers nothing.
const tracing = await startTracing("helmer", tracingConfig(process.env));
const metrics = new ServiceMetrics();
const kc = loadKubeConfig(config.kubeconfig);

const kubeVersion = (await kc.makeApiClient(VersionApi).getCode()).gitVersion;
const identity = await whoAmI(kc);
const self = serviceAccountOf(identity);
const uploaded = await watchUploadedCharts(kc, config.namespace, (err: unknown) => {
  log.warn({ err }, "uploaded chart watch failed; retrying");
});
const helmHome = join(config.chartCacheDir, "helm-home");
// Helm's post-render step comes back to this process; its plugin lives in this process's private folder, so that two
// helmers sharing a chart cache never send helm's manifests to each other.
const postRenders = await PostRenderServer.start();
// HOME too: without it helm (client-go) puts its discovery cache under ./.kube of the working directory.
const helmEnv = {
  PATH: process.env.PATH,
  HOME: join(helmHome, "home"),
  HELM_CACHE_HOME: join(helmHome, "cache"),
  HELM_CONFIG_HOME: join(helmHome, "config"),
  HELM_DATA_HOME: join(helmHome, "data"),
  HELM_PLUGINS: join(postRenders.dir, "plugins"),
  // helm runs for a fraction of a second per release: collecting less often saved a quarter of its CPU (measured),
  // and the soft limit still makes it collect before one run can use much memory.
  GOGC: "400",
  GOMEMLIMIT: "256MiB",
};
await installPostRendererPlugin(
  helmEnv.HELM_PLUGINS,
  config.postRenderBin || DEFAULT_POST_RENDER_BIN,
  postRenders.socket,
);
const store = new ChartStore({
  fetch: {
    helmBin: config.helmBin,
    cacheDir: config.chartCacheDir,
    loadUploaded: (file) => uploaded.load(file),
    env: helmEnv,
    plainHttpRegistries: config.ociPlainHttpRegistries,
    allow: config.chartFetchAllow,
  },
  urlTtlMs: config.chartUrlTtlMs,
  renderCacheEntries: config.renderCacheEntries,
  renderTimeoutMs: config.renderTimeoutMs,
  kubeVersion,
  uploadedDigest: (file) => uploaded.digest(file),
  metrics,
});

const bus = new Bus();
const renderLog = log.child({ component: "render" });
const renderLimiter = new RateLimiter({
  burst: config.renderBurst,
  perMinute: config.renderRatePerMinute,
});
const subscriptions: { unsubscribe(): void }[] = [];
let natsLink: NatsReachability | undefined;
bus.whenConnected((nc) => {
  natsLink = watchNatsConnection(nc, (connected) => {
    if (connected) log.info("reconnected to NATS: serving renders again");
    else log.warn("disconnected from NATS: not serving renders until it is back");
  });
  subscriptions.push(
    serve(
      nc,
      "HelmerRender",
      metrics.nats.handle(Subjects.HelmerRender.subject, async (req, meta) => {
        const started = Date.now();
        const reply = await handleRender(store, req, {
          caller: meta.caller,
          limiter: renderLimiter,
        });
        renderLog.debug(
          { chart: req.chartName, durationMs: Date.now() - started },
          "chart rendered",
        );
        return reply;
      }),
      (err) => {
        renderLog.info({ err }, "render request failed");
      },
    ),
  );
});
// The controllers do not wait for NATS: the cluster is the source of truth, NATS only wakes them sooner.
connectNats({ ...config.nats, name: "helmer", waitOnFirstConnect: true }).then(
  (nc) => {
    bus.attach(nc);
    log.info({ servers: config.nats.servers }, "connected to NATS");
    if (config.clusterCidrs.length === 0)
      log.warn(
        { setting: "CLUSTER_CIDRS" },
        "cluster CIDRs not configured: tenants' egress ipBlocks also admit pod addresses (set networkPolicy.clusterCIDRs in the chart)",
      );
  },
  (err: unknown) => {
    log.error({ err }, "NATS connection failed; running on watches alone");
  },
);
// Every replica serves renders; only the Lease holder runs the controllers (two would race on the same releases).
let controllers: { stop(): Promise<void> } | undefined;
async function startControllers(): Promise<void> {
  const slots = new FleetSlots();
  // Late-bound: the composition controller starts first and asks for instances only once both run.
  const late: { instances?: InstanceController } = {};
  const compositionsController = await startCompositionController({
    kc,
    store,
    bus,
    log: log.child({ component: "compositions" }),
    concurrency: config.workers,
    slots,
    metrics,
    instancesOf: (rcKey) => late.instances?.instancesOf(rcKey),
  });
  const instancesController = await startInstanceController({
    kc,
    store,
    helm: {
      helmBin: config.helmBin,
      env: helmEnv,
      timeoutMs: config.renderTimeoutMs * 6,
      metrics: metrics.helm,
      ...(config.kubeconfig ? { kubeconfig: config.kubeconfig } : {}),
    },
    metrics,
    postRenders,
    compositions: compositionsController.compositions,
    log: log.child({ component: "instances" }),
    concurrency: config.workers,
    ...(self ? { self } : {}),
    kubeplusNamespace: config.namespace,
    reservedNamespaces: config.reservedNamespaces,
    clusterCidrs: config.clusterCidrs,
    metricsCollectorCidrs: config.metricsCollectorCidrs,
    bus,
    slots,
    resyncMs: config.resyncMs,
    lintContext: (allow) => compositionsController.facts.lintContext(allow),
    onInstanceChange: (rcKey) => {
      compositionsController.fleetChanged(rcKey);
    },
  });
  late.instances = instancesController;
  controllers = {
    stop: async () => {
      await instancesController.stop();
      await compositionsController.stop();
    },
  };
  log.info({ lease: LEASE_NAME, identity: config.identity }, "leading: controllers started");
}

const LEASE_NAME = "kubeplus-helmer";
const election = startLeaderElection(kc, {
  namespace: config.namespace,
  name: LEASE_NAME,
  identity: config.identity,
  onStartedLeading: startControllers,
  onStoppedLeading: () => {
    // Another replica may already act on the releases: stop at once and let the restart rejoin the election.
    log.error(
      { lease: LEASE_NAME },
      "lost the leader lease; exiting so that only one replica acts",
    );
    process.exit(1);
  },
  onError: (err) => {
    log.warn({ err, lease: LEASE_NAME }, "leader election attempt failed; retrying");
  },
});
// Ready (the uploaded charts' cache synced before this point) when it either leads with its controllers' caches
// synced, or serves renders (connected to NATS with its render subscription): a replica that does neither is no use.
const leading = (): boolean => election.isLeader() && controllers !== undefined;
const servingRenders = (): boolean => subscriptions.length > 0 && natsLink?.connected() === true;
const health = await startHealthServer(config.healthPort, config.healthHost, {
  ready: () => leading() || servingRenders(),
  details: () => ({
    leader: election.isLeader(),
    controllers: controllers !== undefined,
    servingRenders: servingRenders(),
  }),
  metrics,
});
log.info(
  {
    namespace: config.namespace,
    kubeVersion,
    helm: config.helmBin,
    identity,
    health: health.address(),
    tracing: tracing.enabled,
  },
  "helmer started",
);

async function shutdown(signal: string): Promise<void> {
  log.info({ signal }, "shutting down");
  subscriptions.forEach((s) => {
    s.unsubscribe();
  });
  await controllers?.stop();
  await election.release().catch(() => undefined);
  health.close();
  await bus.drain();
  await uploaded.stop();
  await postRenders.close();
  await tracing.shutdown();
  process.exit(0);
}
process.once("SIGTERM", () => void shutdown("SIGTERM"));
process.once("SIGINT", () => void shutdown("SIGINT"));
