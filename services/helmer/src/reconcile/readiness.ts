/**
 * Readiness of one live object, decided the way kstatus (sigs.k8s.io/cli-utils/pkg/kstatus/status) decides it:
 * Current (done), InProgress (a rollout or a start still under way, with what it waits for) or Failed (it will not
 * get there without a change: a failed Job, a rollout past its progress deadline). Pure: no I/O.
 */

import { findCondition } from "@kubeplus/api";

export type ObjectStatusKind = "Current" | "InProgress" | "Failed";

export interface ObjectStatus {
  readonly status: ObjectStatusKind;
  /** What it waits for, or why it failed; empty when Current. */
  readonly message: string;
}

interface Condition {
  readonly type?: string;
  readonly status?: string;
  readonly reason?: string;
  readonly message?: string;
}

/** A live object as read from the apiserver, as far as readiness goes. */
export interface LiveObject {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata?: { generation?: number; deletionTimestamp?: unknown };
  readonly spec?: unknown;
  readonly status?: unknown;
}

type Fields = Record<string, unknown>;

const CURRENT: ObjectStatus = { status: "Current", message: "" };
const inProgress = (message: string): ObjectStatus => ({ status: "InProgress", message });
const failed = (message: string): ObjectStatus => ({ status: "Failed", message });

const fields = (v: unknown): Fields =>
  v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Fields) : {};
const num = (v: unknown, fallback = 0): number => (typeof v === "number" ? v : fallback);
const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);
const conditionsOf = (status: Fields): Condition[] =>
  Array.isArray(status.conditions) ? (status.conditions as Condition[]) : [];
const condition = (status: Fields, type: string): Condition | undefined =>
  findCondition(conditionsOf(status), type);
const isTrue = (status: Fields, type: string): boolean =>
  condition(status, type)?.status === "True";
const detail = (c: Condition | undefined): string => (c?.message ? `: ${c.message}` : "");

/** The checks every kind shares: being deleted, and a controller that has not seen the latest spec yet. */
function common(object: LiveObject, status: Fields): ObjectStatus | undefined {
  if (object.metadata?.deletionTimestamp) return inProgress("being deleted");
  const generation = object.metadata?.generation;
  const observed = status.observedGeneration;
  if (typeof generation === "number" && typeof observed === "number" && observed < generation)
    return inProgress(`generation ${generation} not observed yet (observed ${observed})`);
  return undefined;
}

/** Replica counts, in the order a rollout reaches them: the first one short is what it waits for. */
function replicaShortfall(
  want: number,
  counts: readonly (readonly [number, string])[],
): ObjectStatus | undefined {
  for (const [have, what] of counts)
    if (have < want) return inProgress(`${have} of ${want} ${what}`);
  return undefined;
}

function deployment(object: LiveObject): ObjectStatus {
  const spec = fields(object.spec);
  const status = fields(object.status);
  const progressing = condition(status, "Progressing");
  if (progressing?.reason === "ProgressDeadlineExceeded")
    return failed(`progress deadline exceeded${detail(progressing)}`);
  if (object.metadata?.generation !== undefined && status.observedGeneration === undefined)
    return inProgress("not observed by its controller yet");
  const want = num(spec.replicas, 1);
  const short = replicaShortfall(want, [
    [num(status.replicas), "created"],
    [num(status.updatedReplicas), "updated"],
  ]);
  if (short) return short;
  const total = num(status.replicas);
  if (total > want) return inProgress(`${total - want} old replica(s) pending termination`);
  return (
    replicaShortfall(want, [
      [num(status.availableReplicas), "available"],
      [num(status.readyReplicas), "ready"],
    ]) ?? CURRENT
  );
}

function statefulSet(object: LiveObject): ObjectStatus {
  const spec = fields(object.spec);
  const status = fields(object.status);
  if (object.metadata?.generation !== undefined && status.observedGeneration === undefined)
    return inProgress("not observed by its controller yet");
  const strategy = fields(spec.updateStrategy);
  // OnDelete: the controller replaces no pod by itself, so there is no rollout to wait for.
  if (strategy.type === "OnDelete") return CURRENT;
  const want = num(spec.replicas, 1);
  const short = replicaShortfall(want, [
    [num(status.replicas), "created"],
    [num(status.readyReplicas), "ready"],
  ]);
  if (short) return short;
  const partition = num(fields(strategy.rollingUpdate).partition);
  if (partition > 0) {
    // A partitioned rollout is complete when the pods at or above the partition are updated.
    const wantUpdated = Math.max(want - partition, 0);
    const updated = num(status.updatedReplicas);
    return updated < wantUpdated
      ? inProgress(`${updated} of ${wantUpdated} updated (partition ${partition})`)
      : CURRENT;
  }
  const updated = num(status.updatedReplicas);
  if (updated < want) return inProgress(`${updated} of ${want} updated`);
  const current = str(status.currentRevision);
  const update = str(status.updateRevision);
  if (update !== undefined && current !== update)
    return inProgress(`revision ${update} not rolled out yet (current ${current ?? "none"})`);
  return CURRENT;
}

function daemonSet(object: LiveObject): ObjectStatus {
  const status = fields(object.status);
  if (object.metadata?.generation !== undefined && status.observedGeneration === undefined)
    return inProgress("not observed by its controller yet");
  const want = num(status.desiredNumberScheduled);
  return (
    replicaShortfall(want, [
      [num(status.currentNumberScheduled, want), "scheduled"],
      [num(status.updatedNumberScheduled), "updated"],
      [num(status.numberAvailable), "available"],
      [num(status.numberReady, num(status.numberAvailable)), "ready"],
    ]) ?? CURRENT
  );
}

function replicaSet(object: LiveObject): ObjectStatus {
  const spec = fields(object.spec);
  const status = fields(object.status);
  const want = num(spec.replicas, 1);
  const failure = condition(status, "ReplicaFailure");
  const short = replicaShortfall(want, [
    [num(status.fullyLabeledReplicas, num(status.replicas)), "created"],
    [num(status.availableReplicas), "available"],
    [num(status.readyReplicas), "ready"],
  ]);
  if (short)
    return failure?.status === "True"
      ? inProgress(`${short.message}; replica failure${detail(failure)}`)
      : short;
  const total = num(status.replicas);
  return total > want ? inProgress(`${total - want} replica(s) pending termination`) : CURRENT;
}

function job(object: LiveObject): ObjectStatus {
  const status = fields(object.status);
  const failure = condition(status, "Failed");
  if (failure?.status === "True")
    return failed(`failed${failure.reason ? ` (${failure.reason})` : ""}${detail(failure)}`);
  if (isTrue(status, "Complete")) return CURRENT;
  const spec = fields(object.spec);
  if (spec.suspend === true) return inProgress("suspended");
  return inProgress(
    `${num(status.succeeded)} of ${num(spec.completions, 1)} completed (${num(status.active)} active, ${num(status.failed)} failed)`,
  );
}

function pod(object: LiveObject): ObjectStatus {
  const status = fields(object.status);
  const phase = str(status.phase);
  if (phase === "Succeeded") return CURRENT;
  if (phase === "Failed")
    return failed(`pod failed${detail({ message: str(status.message) ?? "" })}`);
  const containers = Array.isArray(status.containerStatuses) ? status.containerStatuses : [];
  for (const c of containers) {
    const waiting = fields(fields(fields(c).state).waiting);
    if (waiting.reason === "CrashLoopBackOff")
      return failed(`container ${String(fields(c).name)} is in CrashLoopBackOff`);
  }
  if (phase === "Running" && isTrue(status, "Ready")) return CURRENT;
  const ready = condition(status, "Ready");
  return inProgress(`pod ${phase ?? "Pending"}, not ready${detail(ready)}`);
}

function persistentVolumeClaim(object: LiveObject): ObjectStatus {
  const phase = str(fields(object.status).phase);
  return phase === "Bound" ? CURRENT : inProgress(`claim ${phase ?? "Pending"}, not bound`);
}

function service(object: LiveObject): ObjectStatus {
  if (fields(object.spec).type !== "LoadBalancer") return CURRENT;
  const ingress = fields(fields(object.status).loadBalancer).ingress;
  return Array.isArray(ingress) && ingress.length > 0
    ? CURRENT
    : inProgress("no load balancer address yet");
}

/** Any other kind, custom resources included: their Stalled, Reconciling and Ready conditions, when they have them. */
function byConditions(status: Fields): ObjectStatus {
  const stalled = condition(status, "Stalled");
  if (stalled?.status === "True") return failed(`stalled${detail(stalled)}`);
  const reconciling = condition(status, "Reconciling");
  if (reconciling?.status === "True") return inProgress(`reconciling${detail(reconciling)}`);
  const ready = condition(status, "Ready");
  if (ready && ready.status !== "True") return inProgress(`not ready${detail(ready)}`);
  return CURRENT;
}

const BY_KIND: Record<string, (object: LiveObject) => ObjectStatus> = {
  Deployment: deployment,
  StatefulSet: statefulSet,
  DaemonSet: daemonSet,
  ReplicaSet: replicaSet,
  Job: job,
  Pod: pod,
  PersistentVolumeClaim: persistentVolumeClaim,
  Service: service,
};

/** The kinds with rules of their own (any other kind is judged by its conditions). */
export const BUILT_IN_KINDS: ReadonlySet<string> = new Set(Object.keys(BY_KIND));

/** Where an object is: Current, InProgress (and what it waits for) or Failed (and why). */
export function objectStatus(object: LiveObject): ObjectStatus {
  const status = fields(object.status);
  const early = common(object, status);
  if (early) return early;
  const rule = BY_KIND[String(object.kind)];
  return rule ? rule(object) : byConditions(status);
}

/** An object of a release that is not Current yet: `Kind/name`, where it is, and what it waits for or why it failed. */
export interface NotReadyObject {
  readonly id: string;
  readonly status: Exclude<ObjectStatusKind, "Current">;
  readonly message: string;
}

/** `Deployment/web: 1 of 2 updated`. */
export const describeNotReady = (o: NotReadyObject): string => `${o.id}: ${o.message}`;

// API groups of Kubernetes itself: their kinds without rules of their own (ConfigMap, Role...) are ready once they exist.
const BUILT_IN_GROUP = /(^|\.)k8s\.io$/;

/**
 * Whether an object rendered by a chart has a readiness worth reading back: the kinds with rules of their own, and
 * custom resources (judged by their conditions). Objects of Kubernetes' own other kinds are ready once applied.
 */
export function hasReadiness(object: {
  apiVersion?: unknown;
  kind?: unknown;
  spec?: unknown;
}): boolean {
  const kind = String(object.kind);
  // A LoadBalancer's address is not waited for: many clusters (bare metal, kind, the local control plane) have no
  // load-balancer implementation, and their Services never get one; the original did not wait either. objectStatus
  // still judges one when asked, and `kubectl appurl` shows the address once there is one.
  if (kind === "Service") return false;
  if (BUILT_IN_KINDS.has(kind)) return true;
  const apiVersion = str(object.apiVersion) ?? "";
  if (!apiVersion.includes("/")) return false;
  const group = apiVersion.split("/")[0] ?? "";
  return group.includes(".") && !BUILT_IN_GROUP.test(group);
}
