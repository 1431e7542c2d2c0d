import {
  ConditionSet,
  ConditionType,
  findCondition,
  type Condition,
  type Instance,
  type InstanceRef,
  type InstanceStatus,
  type Verdict,
} from "@kubeplus/api";
import type { RequestOf } from "@kubeplus/contracts";
import type { InstancePlan } from "../instance-desired.js";
import type { InstanceReconcileDeps } from "./deps.js";

export const InstanceReason = {
  Ready: "Ready",
  Installing: "Installing",
  Upgrading: "Upgrading",
  Progressing: "Progressing",
  Recovering: "Recovering",
  InstallFailed: "InstallFailed",
  UpgradeFailed: "UpgradeFailed",
  IsolationRefused: "IsolationRefused",
  ChartUnavailable: "ChartUnavailable",
  UpgradePending: "UpgradePending",
  UpgradeHalted: "UpgradeHalted",
  UpgradeIncompatible: "UpgradeIncompatible",
  Pinned: "Pinned",
  UpgradePaused: "UpgradePaused",
  CompositionUpgradeBlocked: "CompositionUpgradeBlocked",
  Deleting: "Deleting",
  /** The composition of its kind has not registered its current spec: nothing is done until it has. */
  CompositionNotReady: "CompositionNotReady",
  /** Seen, and waiting for a free worker of the helmer (the work queue): the reconciles ahead of it are counted. */
  Queued: "Queued",
  /** Its first reconcile: the namespace, the isolation objects and the chart, before helm runs. */
  Preparing: "Preparing",
  /** A reconcile failed on something that may pass (the apiserver busy or unreachable): tried again after a backoff. */
  Retrying: "Retrying",
  /** The instance's namespace exists and is not this instance's, or its name is reserved. */
  NamespaceConflict: "NamespaceConflict",
  /** The namespace of an earlier instance of the same name is still being deleted. */
  NamespaceTerminating: "NamespaceTerminating",
  /** An object of the release failed (a Job, a rollout past its progress deadline): only a change or a resync retries. */
  ProgressFailed: "ProgressFailed",
  /** The apiserver refused an object the helmer made for the instance (a TerminalError): only a change helps. */
  Invalid: "Invalid",
} as const;

/** Reasons after which only a change (of the spec or the composition's chart) helps: kstatus Stalled. */
const STALLED = new Set<string>([
  InstanceReason.InstallFailed,
  InstanceReason.UpgradeFailed,
  InstanceReason.IsolationRefused,
  InstanceReason.ChartUnavailable,
  InstanceReason.NamespaceConflict,
  InstanceReason.ProgressFailed,
  InstanceReason.Invalid,
]);

/** What one step concluded: ready or not, why, and what else of the status it decided. */
export interface Report {
  readonly ready: boolean;
  readonly reason: string;
  readonly message: string;
  readonly extra?: Partial<InstanceStatus>;
  /** Leave a Ready of this very spec as it is (a fleet chart upgrade, a slot wait): the release still serves it. */
  readonly keepReady?: boolean;
  /** Stalled whatever the reason (a TerminalError's); otherwise the reason says. */
  readonly stalled?: boolean;
}

const verdictOf = (r: Report): Verdict => ({
  standing: r.ready ? "Current" : r.stalled || STALLED.has(r.reason) ? "Stalled" : "InProgress",
  reason: r.reason,
  message: r.message,
});

export const readyOf = (instance: Instance): Condition | undefined =>
  findCondition(instance.status?.conditions, ConditionType.Ready);

/**
 * Whether the instance's status says anything yet. A new instance says nothing until a step writes it: every step that
 * can take a while (a wait for a worker, a composition, a chart, helm) is preceded by a report of what it waits for.
 */
export const saysNothingYet = (instance: Instance): boolean => readyOf(instance) === undefined;

/** Writes the status one step decided: the conditions (Ready, Reconciling, Stalled agree), and only its fields. */
export async function report(
  instance: Instance,
  plan: InstancePlan,
  r: Report,
  deps: Pick<InstanceReconcileDeps, "writeStatus" | "now">,
): Promise<void> {
  const generation = instance.metadata.generation ?? 0;
  const conditions = new ConditionSet(instance.status?.conditions, generation, deps.now())
    .judge(verdictOf(r), { keepReady: r.keepReady === true })
    .toArray();
  const failed = r.stalled || STALLED.has(r.reason) ? { error: r.message } : {};
  // Only the fields this report decides: the status is merge-patched, and the cached instance may be a write behind,
  // so spreading it would put back what a newer write changed (a cleared or recorded failure).
  await deps.writeStatus(instance, {
    helmrelease: `${plan.namespace}:${plan.release}`,
    namespace: plan.namespace,
    observedGeneration: generation,
    conditions,
    ...(r.ready ? { error: "" } : failed),
    ...r.extra,
  });
}

/** The instance as events name it. */
export function identity(instance: Instance): {
  version: 1;
  group: string;
  kind: string;
  namespace: string;
  name: string;
  uid?: string;
  generation?: number;
} {
  const group = instance.apiVersion.split("/")[0] ?? "";
  return {
    version: 1,
    group,
    kind: instance.kind,
    namespace: instance.metadata.namespace ?? "",
    name: instance.metadata.name ?? "",
    ...(instance.metadata.uid ? { uid: instance.metadata.uid } : {}),
    ...(instance.metadata.generation ? { generation: instance.metadata.generation } : {}),
  };
}

export function instanceRef(instance: Instance): InstanceRef {
  return {
    kind: instance.kind,
    namespace: instance.metadata.namespace ?? "",
    name: instance.metadata.name ?? "",
    uid: instance.metadata.uid ?? "",
  };
}

export type FailureReason = RequestOf<"InstanceFailed">["reason"];

/** A failure: reported as Stalled with its reason, and published once. */
export async function reportFailure(
  c: { instance: Instance; plan: InstancePlan },
  failure: { reason: FailureReason; message: string },
  deps: Pick<InstanceReconcileDeps, "writeStatus" | "now" | "emit">,
  extra?: Partial<InstanceStatus>,
): Promise<void> {
  const { instance, plan } = c;
  const before = readyOf(instance);
  await report(instance, plan, { ready: false, ...failure, ...(extra ? { extra } : {}) }, deps);
  if (before?.reason !== failure.reason || before.message !== failure.message) {
    deps.emit({
      subject: "InstanceFailed",
      payload: { ...identity(instance), release: `${plan.namespace}:${plan.release}`, ...failure },
    });
  }
}
