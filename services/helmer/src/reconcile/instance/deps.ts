import type { ObjectEvent } from "../kube-events.js";
import type {
  Instance,
  InstanceRef,
  InstanceStatus,
  NamespaceOwnership,
  ResourceComposition,
} from "@kubeplus/api";
import type { FetchedChart, RenderedObject } from "@kubeplus/charts";
import type { RequestOf } from "@kubeplus/contracts";
import type { Logger } from "@kubeplus/runtime";
import type { PodPolicy } from "../../policy/pod-policy.js";
import type { FleetDecision } from "../fleet.js";
import type { InstancePlan, ServiceAccountRef } from "../instance-desired.js";
import type { NotReadyObject } from "../readiness.js";

/** Finalizer on every instance: its release and namespace go before it does. */
export const INSTANCE_FINALIZER = "workflows.kubeplus/finalizer";

export type Obj = Record<string, unknown> & {
  apiVersion: string;
  kind: string;
  metadata: Record<string, unknown>;
};

/**
 * Helm's render of the instance would break tenant isolation: helm stopped at its post-render step, before it created
 * or changed anything.
 */
export class IsolationRefusal extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(
      `refused: the chart, with this instance's values, would break tenant isolation:\n  - ${problems.join("\n  - ")}`,
    );
    this.name = "IsolationRefusal";
    this.problems = problems;
  }
}

/** What helm's post-render step does to the objects of one helm run. */
export interface PostRenderChecks {
  readonly policy: PodPolicy;
  isolationProblems(objects: readonly RenderedObject[]): string[];
}

export interface ReleaseState {
  readonly status: string;
  readonly revision: number;
  readonly chart: string;
  readonly values: Record<string, unknown>;
  /** What the revision applied, in `helm template`'s layout (manifest, then hooks). */
  readonly manifest: string;
}

/** Events the helmer publishes about instances (typed by @kubeplus/contracts). */
export type InstanceEvent =
  | { readonly subject: "InstanceReady"; readonly payload: RequestOf<"InstanceReady"> }
  | { readonly subject: "InstanceFailed"; readonly payload: RequestOf<"InstanceFailed"> }
  | { readonly subject: "InstanceDeleted"; readonly payload: RequestOf<"InstanceDeleted"> };

/** What creating (never applying over) an instance's namespace found. */
export type NamespaceClaim =
  | { readonly state: "ours" }
  | { readonly state: "terminating" }
  | { readonly state: "conflict"; readonly detail: string };

/** Everything a reconcile of one instance does to the world, injected: the cluster, helm, the fleet, the bus. */
export interface InstanceReconcileDeps {
  /** The helmer's own ServiceAccount, when it runs as one (it binds itself the tenant role in new namespaces). */
  readonly self?: ServiceAccountRef;
  /** The KubePlus namespace: instances' egress policy keeps tenants out of it. */
  readonly platformNamespace?: string;
  /** The cluster's pod and service ranges, kept out of instances' egress ipBlocks. */
  readonly clusterCidrs?: readonly string[];
  /** Where a metrics-collector outside the cluster scrapes appEndpoints from (METRICS_COLLECTOR_CIDRS). */
  readonly metricsCollectorCidrs?: readonly string[];
  get(namespace: string, name: string): Instance | undefined;
  composition(): ResourceComposition | undefined;
  namespaceLabels(name: string): Record<string, string> | undefined;
  namespaceExists(name: string): Promise<boolean>;
  /** Why no instance may have this namespace (the cluster's and the administrator's), or undefined. */
  reservedNamespace(name: string): string | undefined;
  /**
   * Creates the instance's namespace, or finds it already this instance's (by the UID label); never takes over a
   * namespace that exists for anyone else.
   */
  claimNamespace(namespace: Obj, instance: InstanceRef): Promise<NamespaceClaim>;
  /** Whose the namespace is, or undefined when it does not exist. */
  namespaceOwner(name: string, instance: InstanceRef): Promise<NamespaceOwnership | undefined>;
  deleteNamespace(name: string): Promise<void>;
  apply(object: Obj): Promise<void>;
  setFinalizers(instance: Instance, finalizers: string[]): Promise<void>;
  /** Merge-patches only these fields of the instance's status (StatusWriter). */
  writeStatus(instance: Instance, status: InstanceStatus): Promise<void>;
  chart(rc: ResourceComposition): Promise<FetchedChart>;
  render(
    chart: FetchedChart,
    plan: InstancePlan,
    values: Record<string, unknown>,
  ): Promise<RenderedObject[]>;
  /**
   * What in the instance's rendered chart would break tenant isolation (shared volumes, host access, objects outside
   * the instance's namespace, bindings and ServiceAccounts the chart may not use).
   */
  isolationProblems(
    rc: ResourceComposition,
    rendered: readonly RenderedObject[],
    namespace: string,
  ): string[];
  /** The release's latest revision (state, chart, values), or undefined when there is none. */
  release(plan: InstancePlan): Promise<ReleaseState | undefined>;
  /**
   * `helm upgrade --install`. Helm's rendered objects are checked with `checks.isolationProblems` and given the policy
   * before anything is applied; any problem throws an IsolationRefusal. Returns the objects the release applied, or
   * undefined when helm did not show them.
   */
  upgradeInstall(
    plan: InstancePlan,
    chart: FetchedChart,
    values: Record<string, unknown>,
    checks: PostRenderChecks,
  ): Promise<RenderedObject[] | undefined>;
  /** Back to the last revision deployed successfully; undefined when there is none. */
  rollback(plan: InstancePlan): Promise<number | undefined>;
  uninstall(plan: InstancePlan): Promise<void>;
  /** The objects (of those given) that are not Current yet (readiness.ts): in progress, or failed, and why. */
  notReady(objects: readonly RenderedObject[], namespace: string): Promise<NotReadyObject[]>;
  /** A slot in the composition's fleet rollout for moving this instance to a new chart. */
  fleetSlot(instance: Instance, digest: string): FleetDecision;
  releaseFleetSlot(instance: Instance): void;
  emit(event: InstanceEvent): void;
  /** Records a Kubernetes Event about the instance (each change of its state); failures are only logged. */
  recordEvent?(instance: Instance, event: ObjectEvent): Promise<void>;
  /** How long a converged instance waits before it is checked again (drift correction). */
  readonly resyncMs: number;
  now(): Date;
  /**
   * The controller's logger; each reconcile narrows it to one instance ({kind, namespace, name, uid, generation}):
   * a line per state change at info, a line per step at debug.
   */
  readonly log?: Logger;
}

export type ChartStatus = NonNullable<InstanceStatus["chart"]>;

/** One instance on its way to its release: what every Helm action works from. */
export interface Converging {
  readonly instance: Instance;
  readonly rc: ResourceComposition;
  readonly plan: InstancePlan;
  readonly chart: FetchedChart;
  readonly chartStatus: ChartStatus;
  /** The objects of a release that already serves this spec on this chart; undefined when helm has work to do. */
  readonly rendered?: readonly RenderedObject[];
  /** The release's latest revision, read once per reconcile. */
  readonly release: ReleaseState | undefined;
}

/** What the release applies once helm has nothing more to do: its readiness is reported next. */
export interface Applied {
  readonly objects: readonly RenderedObject[];
}

/** How often a release that is not ready yet is looked at, and how soon an instance waiting on something is. */
export const POLL_MS = 1_000;
export const WAIT_SLOT_MS = 2_000;
/** A failed first install (or an unreachable chart) is tried again after this, or at once on a change. */
export const RETRY_FAILED_MS = 30_000;
