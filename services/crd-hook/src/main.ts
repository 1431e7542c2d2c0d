#!/usr/bin/env node
import { X509Certificate } from "node:crypto";
import { createServer } from "node:https";
import { setTimeout as sleep } from "node:timers/promises";
import { CoreV1Api } from "@kubernetes/client-node";
import { publish, request, Subjects } from "@kubeplus/contracts";
import { Applier, KubeRequestError, kubeRequest, loadKubeConfig } from "@kubeplus/kube";
import {
  connectNats,
  createLogger,
  ServiceMetrics,
  startHealthServer,
  startTracing,
  traceparentOf,
  tracingConfig,
  watchNatsConnection,
} from "@kubeplus/runtime";
import { mutate, validate } from "./admission/admit.js";
import { loadConfig } from "./config.js";
import { createApp } from "./server.js";
import { startClusterState } from "./state/cluster-state.js";
import { ensureServingCertificate, type ServingMaterial } from "./tls/serving-cert.js";
import { buildWebhookConfigurations, type ClientTarget } from "./webhook/configurations.js";

const FIELD_MANAGER = "kubeplus-crd-hook";
const CERT_CHECK_INTERVAL_MS = 60 * 60 * 1000;

const config = loadConfig(process.env);
const webhookName = config.webhookConfigurationName;
const log = createLogger({ service: "crd-hook", level: config.logLevel });
// Before anything that can start a span: without OTEL_EXPORTER_OTLP_ENDPOINT this registers nothing.
const tracing = await startTracing("crd-hook", tracingConfig(process.env));
const metrics = new ServiceMetrics();
const kc = loadKubeConfig(config.kubeconfig);
const core = kc.makeApiClient(CoreV1Api);
const applier = new Applier(kc, FIELD_MANAGER);

const certOptions = {
  namespace: config.namespace,
  secretName: config.tlsSecretName,
  dnsNames: [
    `${config.serviceName}.${config.namespace}.svc`,
    `${config.serviceName}.${config.namespace}.svc.cluster.local`,
    "localhost",
  ],
  ipAddresses: ["127.0.0.1"],
  renewBeforeMs: config.certRenewBeforeMs,
  validityDays: config.certValidityDays,
};
let { material } = await ensureServingCertificate(core, certOptions);
/** When the serving certificate in use stops being valid (ms): past it, crd-hook holds no usable certificate. */
const validUntil = (m: ServingMaterial): number =>
  new Date(new X509Certificate(m.serving.certPem).validTo).getTime();
let certificateValidUntil = validUntil(material);

const nc = await connectNats({
  ...config.nats,
  name: "crd-hook",
  // A pod can start before NATS, or before NATS's Service is routed: wait for it rather than crash-loop.
  retryFirstConnect: {
    onRetry: (err) => {
      log.warn({ err }, "NATS not reachable yet; retrying");
    },
  },
});
// Admission asks the helmer to render charts over NATS: without it, compositions cannot be admitted.
const natsLink = watchNatsConnection(nc, (connected) => {
  if (connected) log.info("reconnected to NATS");
  else log.warn("disconnected from NATS: not ready until it is back");
});
const state = await startClusterState({
  kc,
  namespace: config.namespace,
  render: (chartURL, chartName) =>
    metrics.nats.request(Subjects.HelmerRender.subject, () =>
      request(
        nc,
        "HelmerRender",
        { version: 1, chartURL, chartName },
        { timeoutMs: config.renderTimeoutMs, requester: "crd-hook" },
      ),
    ),
  onWatchError: (err: unknown) => {
    log.warn({ err }, "watch failed; restarting it");
  },
});

const target: ClientTarget = config.webhookUrl
  ? { url: config.webhookUrl }
  : { service: { namespace: config.namespace, name: config.serviceName, port: 443 } };
let appliedKey = "";
/** In `chart` mode the chart owns the objects (helm uninstall removes them); crd-hook never creates them. */
async function chartCreatedWebhooks(): Promise<boolean> {
  const base = "/apis/admissionregistration.k8s.io/v1";
  try {
    await kubeRequest(kc, "GET", `${base}/validatingwebhookconfigurations/${webhookName}`);
    await kubeRequest(kc, "GET", `${base}/mutatingwebhookconfigurations/${webhookName}`);
    return true;
  } catch (err) {
    if (err instanceof KubeRequestError && err.code === 404) return false;
    throw err;
  }
}
async function applyWebhooks(current: ServingMaterial): Promise<void> {
  const groups = state.generatedGroups();
  const key = `${current.ca.certPem}\n${groups.sort().join(",")}`;
  if (key === appliedKey) return;
  if (config.webhookConfigurations === "chart" && !(await chartCreatedWebhooks())) {
    log.warn(
      { name: webhookName },
      "webhook configurations not created by the chart yet; filling them when they appear",
    );
    setTimeout(() => void applyWebhooks(material).catch(() => undefined), 5_000);
    return;
  }
  const { validating, mutating } = buildWebhookConfigurations({
    name: webhookName,
    target,
    caBundle: current.ca.certPem,
    generatedGroups: groups,
    timeoutSeconds: 10,
  });
  // In chart mode the release owns the objects' metadata; crd-hook claims only the webhooks it fills in.
  const owned = (o: Record<string, unknown>): Record<string, unknown> =>
    config.webhookConfigurations === "chart" ? { ...o, metadata: { name: webhookName } } : o;
  await applier.apply(owned(validating) as never);
  await applier.apply(owned(mutating) as never);
  appliedKey = key;
  log.info({ groups }, "webhook configurations applied");
}

// Started: the webhook configurations are applied. Ready: also holding a valid certificate and reaching NATS.
let started = false;
const ready = (): boolean => started && Date.now() < certificateValidUntil && natsLink.connected();
const app = createApp(
  {
    validate: (req) => validate(req, state),
    // The review's span is active here: its traceparent goes on a created (or re-specified) object.
    mutate: (req) => mutate(req, { traceparent: traceparentOf() }),
    afterAdmit: (result) => {
      if (result.event?.type === "composition")
        publish(nc, "CompositionAdmitted", result.event.payload);
      if (result.event?.type === "instance") publish(nc, "InstanceAdmitted", result.event.payload);
    },
    ready,
  },
  {
    deadlineMs: config.requestDeadlineMs,
    log: log.child({ component: "admission" }),
    metrics: metrics.admission,
  },
);
// With a client CA, TLS itself refuses every client but the apiserver (its webhook client certificate): a forged
// review never reaches the handlers.
const clientAuth = config.clientCa
  ? { ca: config.clientCa, requestCert: true, rejectUnauthorized: true }
  : {};
const server = createServer(
  { cert: material.serving.certPem, key: material.serving.keyPem, ...clientAuth },
  app,
);
await new Promise<void>((resolve) => server.listen(config.port, config.host, resolve));
const health = await startHealthServer(config.healthPort, config.healthHost, {
  ready,
  details: () => ({
    started,
    certificateValidUntil: new Date(certificateValidUntil).toISOString(),
    nats: natsLink.connected(),
  }),
  metrics,
});
await applyWebhooks(material);
started = true;
log.info(
  {
    port: config.port,
    host: config.host,
    target,
    clientCertificates: config.clientCa ? "required" : "not required",
    tracing: tracing.enabled,
    health: health.address(),
  },
  "crd-hook started",
);
if (!config.clientCa)
  log.warn(
    "CLIENT_CA_FILE is not set: anyone who reaches the webhook port may post AdmissionReviews; set it to the CA of the apiserver's webhook client certificate",
  );

state.onCompositionsChanged(() => {
  applyWebhooks(material).catch((err: unknown) => {
    log.error({ err }, "could not update the webhook configurations");
  });
});

const rotation = setInterval(() => {
  void (async () => {
    try {
      const next = await ensureServingCertificate(core, certOptions);
      if (next.rotated) {
        material = next.material;
        certificateValidUntil = validUntil(material);
        // The client CA is part of the secure context: it stays with the new certificate.
        server.setSecureContext({
          cert: material.serving.certPem,
          key: material.serving.keyPem,
          ...(config.clientCa ? { ca: config.clientCa } : {}),
        });
        await applyWebhooks(material);
        log.info("serving certificate rotated");
      }
    } catch (err) {
      log.error({ err }, "certificate check failed");
    }
  })();
}, CERT_CHECK_INTERVAL_MS);

async function shutdown(signal: string): Promise<void> {
  // Not ready at once, but still answering while the endpoints controller and every node's kube-proxy take this pod
  // out of the Service: a review sent here meanwhile is answered, not refused (SHUTDOWN_DELAY_SECONDS).
  log.info({ signal, answeringForMs: config.shutdownDelayMs }, "shutting down");
  started = false;
  clearInterval(rotation);
  await sleep(config.shutdownDelayMs);
  server.close();
  server.closeIdleConnections();
  health.close();
  await nc.drain();
  await state.stop();
  await tracing.shutdown();
  process.exit(0);
}
process.once("SIGTERM", () => void shutdown("SIGTERM"));
process.once("SIGINT", () => void shutdown("SIGINT"));
