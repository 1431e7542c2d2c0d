#!/usr/bin/env node
import { ClusterIO } from "@kubeplus/access";
import { serve, Subjects } from "@kubeplus/contracts";
import { loadKubeConfig, startLeaderElection, whoAmI } from "@kubeplus/kube";
import {
  connectNats,
  createLogger,
  startTracing,
  tracingConfig,
  ServiceMetrics,
  startHealthServer,
  watchNatsConnection,
} from "@kubeplus/runtime";
import { keepBuiltInConsumerCurrent } from "./built-in-consumer.js";
import { loadConfig } from "./config.js";
import { handleGenerate } from "./handle-generate.js";

const config = loadConfig(process.env);
const log = createLogger({ service: "kubeconfig-generator", level: config.logLevel });
// Before anything that can start a span: without OTEL_EXPORTER_OTLP_ENDPOINT this registers nothing.
const tracing = await startTracing("kubeconfig-generator", tracingConfig(process.env));
const metrics = new ServiceMetrics();
const kc = loadKubeConfig(config.kubeconfig);
const io = new ClusterIO(kc, "kubeplus-kubeconfig-generator");
const identity = await whoAmI(kc);

// Rebuilt from the cluster on every check: the stored Secret says when its token expires.
let timer: NodeJS.Timeout | undefined;
async function check(): Promise<void> {
  try {
    const { renewed, expiresAt } = await keepBuiltInConsumerCurrent(io, {
      namespace: config.namespace,
      ...(config.publicServerUrl ? { server: config.publicServerUrl } : {}),
      lifetimeSeconds: config.consumerTokenSeconds,
    });
    if (renewed)
      log.info({ namespace: config.namespace, expiresAt }, "built-in consumer kubeconfig renewed");
  } catch (err) {
    log.error({ err }, "built-in consumer kubeconfig check failed; retrying");
  }
  if (election.isLeader()) timer = setTimeout(() => void check(), config.checkMs);
}
// Only the Lease holder renews: two replicas would each mint a token and overwrite the other's Secret.
const election = startLeaderElection(kc, {
  namespace: config.namespace,
  name: "kubeplus-kubeconfig-generator",
  identity: config.identity,
  onStartedLeading: () => {
    log.info({ identity: config.identity }, "leading: renewing the built-in consumer kubeconfig");
    void check();
  },
  onStoppedLeading: () => {
    log.error("lost the leader lease; exiting so that only one replica renews");
    process.exit(1);
  },
  onError: (err) => {
    log.warn({ err }, "leader election attempt failed; retrying");
  },
});

const requests = log.child({ component: "generate" });
const nc = await connectNats({
  ...config.nats,
  name: "kubeconfig-generator",
  // A pod can start before NATS, or before NATS's Service is routed: wait for it rather than crash-loop.
  retryFirstConnect: {
    onRetry: (err) => {
      log.warn({ err }, "NATS not reachable yet; retrying");
    },
  },
});
// Kubeconfigs are asked for over NATS only: without it this service does nothing useful.
const natsLink = watchNatsConnection(nc, (connected) => {
  if (connected) log.info("reconnected to NATS");
  else log.warn("disconnected from NATS: not ready until it is back");
});
// Who may ask is decided by NATS: only the identities the subject registry names may publish on the subject. The
// requester a message names is the caller's claim, logged as such.
const authorizedRequesters = Subjects.KubeconfigGenerate.requestedBy.join(",");
const subscription = serve(
  nc,
  "KubeconfigGenerate",
  metrics.nats.handle(Subjects.KubeconfigGenerate.subject, async (req, meta) => {
    const reply = await handleGenerate(io, req, {
      ...(config.publicServerUrl ? { server: config.publicServerUrl } : {}),
      durationSeconds: config.consumerTokenSeconds,
      maxDurationSeconds: config.maxTokenSeconds,
    });
    // Who asked, for whom and until when; never the kubeconfig (a credential).
    requests.info(
      {
        namespace: req.namespace,
        serviceAccount: req.serviceAccount,
        expiresAt: reply.expiresAt,
        claimedRequester: meta.claimedRequester ?? "(none given)",
        authorizedRequesters,
      },
      "kubeconfig issued",
    );
    return reply;
  }),
  (err, meta) => {
    requests.info(
      { err, claimedRequester: meta?.claimedRequester ?? "(none given)", authorizedRequesters },
      "kubeconfig request refused",
    );
  },
);
const health = await startHealthServer(config.healthPort, config.healthHost, {
  ready: () => natsLink.connected(),
  details: () => ({ leader: election.isLeader(), nats: natsLink.connected() }),
  metrics,
});
log.info(
  {
    namespace: config.namespace,
    identity,
    health: health.address(),
    server: config.publicServerUrl ?? "(the URL in use)",
    maxTokenSeconds: config.maxTokenSeconds,
    tracing: tracing.enabled,
  },
  "kubeconfig-generator started",
);

async function shutdown(signal: string): Promise<void> {
  log.info({ signal }, "shutting down");
  if (timer) clearTimeout(timer);
  subscription.unsubscribe();
  await election.release().catch(() => undefined);
  health.close();
  await nc.drain().catch(() => undefined);
  await tracing.shutdown();
  process.exit(0);
}
process.once("SIGTERM", () => void shutdown("SIGTERM"));
process.once("SIGINT", () => void shutdown("SIGINT"));
