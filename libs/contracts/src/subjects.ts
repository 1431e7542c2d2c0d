import type { CompositionAdmitted } from "./generated/composition-admitted.js";
import type { FleetUpgradeProgress } from "./generated/fleet-upgrade-progress.js";
import type { InstanceAdmitted } from "./generated/instance-admitted.js";
import type { InstanceDeleted } from "./generated/instance-deleted.js";
import type { InstanceFailed } from "./generated/instance-failed.js";
import type { InstanceReady } from "./generated/instance-ready.js";
import type { InstanceUsage } from "./generated/instance-usage.js";
import type { MetricsCollectRequest } from "./generated/metrics-collect-request.js";
import type { KubeconfigReply } from "./generated/kubeconfig-reply.js";
import type { KubeconfigRequest } from "./generated/kubeconfig-request.js";
import type { RenderReply } from "./generated/render-reply.js";
import type { RenderRequest } from "./generated/render-request.js";
import { readFileSync } from "node:fs";

/** Message schemas live in ../schemas beside src/ and dist/ alike. */
function schema(name: string): Record<string, unknown> {
  const url = new URL(`../schemas/${name}.schema.json`, import.meta.url);
  return JSON.parse(readFileSync(url, "utf8")) as Record<string, unknown>;
}

const renderRequest = schema("render-request");
const renderReply = schema("render-reply");
const compositionAdmitted = schema("composition-admitted");
const instanceAdmitted = schema("instance-admitted");
const instanceReady = schema("instance-ready");
const instanceFailed = schema("instance-failed");
const instanceDeleted = schema("instance-deleted");
const fleetUpgradeProgress = schema("fleet-upgrade-progress");
const kubeconfigRequest = schema("kubeconfig-request");
const kubeconfigReply = schema("kubeconfig-reply");
const instanceUsage = schema("instance-usage");
const metricsCollectRequest = schema("metrics-collect-request");

/**
 * The NATS identities of the system: the four services and `provider`, the credential of the provider's own tools
 * (scripts, tests) that ask for kubeconfigs and collections and watch events. Each connects with its own credential
 * and may publish and subscribe only where this registry says (see nats-permissions.ts).
 */
export const NatsUsers = [
  "crd-hook",
  "helmer",
  "kubeconfig-generator",
  "metrics-collector",
  "provider",
] as const;
export type NatsUser = (typeof NatsUsers)[number];

/**
 * Every NATS subject of the system, once. Grammar: `kubeplus.v1.<service>.<verb>` for request/reply and
 * `kubeplus.v1.evt.<domain>.<past-tense>` for events. Kubernetes names never appear in subjects (they may contain
 * dots); they travel in payloads. Who may use each subject is part of its entry: a request subject is served by one
 * identity (in its queue group) and requested by the named ones; an event is published by its owner only.
 */
export const Subjects = {
  HelmerRender: {
    subject: "kubeplus.v1.helmer.render",
    pattern: "request",
    servedBy: "helmer",
    requestedBy: ["crd-hook"],
    queue: "helmer",
    requestSchema: renderRequest,
    replySchema: renderReply,
  },
  KubeconfigGenerate: {
    subject: "kubeplus.v1.kubeconfig.generate",
    pattern: "request",
    servedBy: "kubeconfig-generator",
    requestedBy: ["provider"],
    queue: "kubeconfig-generator",
    requestSchema: kubeconfigRequest,
    replySchema: kubeconfigReply,
  },
  MetricsCollect: {
    subject: "kubeplus.v1.metrics.collect",
    pattern: "request",
    servedBy: "metrics-collector",
    requestedBy: ["provider"],
    queue: "metrics-collector",
    requestSchema: metricsCollectRequest,
    replySchema: instanceUsage,
  },
  InstanceMetered: {
    subject: "kubeplus.v1.evt.instance.metered",
    pattern: "event",
    publishedBy: "metrics-collector",
    subscribedBy: ["provider"],
    queue: undefined,
    requestSchema: instanceUsage,
    replySchema: undefined,
  },
  CompositionAdmitted: {
    subject: "kubeplus.v1.evt.composition.admitted",
    pattern: "event",
    publishedBy: "crd-hook",
    subscribedBy: ["helmer", "provider"],
    queue: undefined,
    requestSchema: compositionAdmitted,
    replySchema: undefined,
  },
  InstanceAdmitted: {
    subject: "kubeplus.v1.evt.instance.admitted",
    pattern: "event",
    publishedBy: "crd-hook",
    subscribedBy: ["provider"],
    queue: undefined,
    requestSchema: instanceAdmitted,
    replySchema: undefined,
  },
  InstanceReady: {
    subject: "kubeplus.v1.evt.instance.ready",
    pattern: "event",
    publishedBy: "helmer",
    subscribedBy: ["provider"],
    queue: undefined,
    requestSchema: instanceReady,
    replySchema: undefined,
  },
  InstanceFailed: {
    subject: "kubeplus.v1.evt.instance.failed",
    pattern: "event",
    publishedBy: "helmer",
    subscribedBy: ["provider"],
    queue: undefined,
    requestSchema: instanceFailed,
    replySchema: undefined,
  },
  InstanceDeleted: {
    subject: "kubeplus.v1.evt.instance.deleted",
    pattern: "event",
    publishedBy: "helmer",
    subscribedBy: ["provider"],
    queue: undefined,
    requestSchema: instanceDeleted,
    replySchema: undefined,
  },
  FleetUpgradeProgress: {
    subject: "kubeplus.v1.evt.fleet.progressed",
    pattern: "event",
    publishedBy: "helmer",
    subscribedBy: ["provider"],
    queue: undefined,
    requestSchema: fleetUpgradeProgress,
    replySchema: undefined,
  },
} as const;

/** Payload types per subject (generated from the schemas). */
export interface SubjectTypes {
  HelmerRender: { request: RenderRequest; reply: RenderReply };
  KubeconfigGenerate: { request: KubeconfigRequest; reply: KubeconfigReply };
  MetricsCollect: { request: MetricsCollectRequest; reply: InstanceUsage };
  InstanceMetered: { request: InstanceUsage; reply: never };
  CompositionAdmitted: { request: CompositionAdmitted; reply: never };
  InstanceAdmitted: { request: InstanceAdmitted; reply: never };
  InstanceReady: { request: InstanceReady; reply: never };
  InstanceFailed: { request: InstanceFailed; reply: never };
  InstanceDeleted: { request: InstanceDeleted; reply: never };
  FleetUpgradeProgress: { request: FleetUpgradeProgress; reply: never };
}

export type SubjectName = keyof typeof Subjects;
export type RequestSubject = {
  [K in SubjectName]: (typeof Subjects)[K]["pattern"] extends "request" ? K : never;
}[SubjectName];
export type EventSubject = Exclude<SubjectName, RequestSubject>;
export type RequestOf<S extends SubjectName> = SubjectTypes[S]["request"];
export type ReplyOf<S extends SubjectName> = SubjectTypes[S]["reply"];
