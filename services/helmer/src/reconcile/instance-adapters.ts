import { createHash } from "node:crypto";
import {
  CoreV1Api,
  CustomObjectsApi,
  KubernetesObjectApi,
  type KubeConfig,
  type V1Namespace,
} from "@kubernetes/client-node";
import {
  namespaceOwnership,
  type Instance,
  type InstanceRef,
  type InstanceStatus,
  type NamespaceOwnership,
  type ResourceComposition,
} from "@kubeplus/api";
import type { RenderedObject } from "@kubeplus/charts";
import { Applier, isConflict, isNotFound, patchStatus } from "@kubeplus/kube";
import { ChartCredentials } from "../helm/chart-credentials.js";
import {
  rollbackToLastDeployed,
  uninstall,
  upgradeInstall,
  type HelmOptions,
} from "../helm/helm-cli.js";
import type { PostRenderServer } from "../helm/post-render-server.js";
import { POST_RENDERER } from "../helm/post-renderer-plugin.js";
import { ReleaseReader } from "../helm/release-storage.js";
import { answerPostRender } from "../policy/post-render.js";
import {
  decideChartUpgrade,
  failedOn,
  incompatibility,
  membersOf,
  pinnedAway,
  upgradeLimits,
  type FleetDecision,
} from "./fleet.js";
import type { FleetSlots } from "./fleet-slots.js";
import { hasWaves, waveVerdict } from "./rollout.js";
import { chartIdentity, ISOLATION, type InstancePlan } from "./instance-desired.js";
import {
  IsolationRefusal,
  type NamespaceClaim,
  type Obj,
  type PostRenderChecks,
  type ReleaseState,
} from "./instance/deps.js";
import {
  quotaRefusalOf,
  readQuotaRefusal,
  withQuotaRefusal,
  type RefusalSignal,
} from "./quota-refusal.js";
import { hasReadiness, objectStatus, type LiveObject, type NotReadyObject } from "./readiness.js";
import { FIELD_MANAGER } from "./reconcile-composition.js";
import { StatusWriter, type Written } from "./status-writer.js";

/*
 * The instance controller's adapters: what InstanceReconcileDeps asks of the cluster and of helm, each a small piece
 * with its own state, so that the controller itself only wires them to its caches and queue.
 */

/** Reads an object of a release back from the apiserver (undefined when it does not exist). */
type ReadLive = (
  object: RenderedObject["object"],
  namespace: string,
) => Promise<LiveObject | undefined>;

const liveReader =
  (objects: KubernetesObjectApi): ReadLive =>
  async (object, namespace) => {
    const meta = (object.metadata ?? {}) as { name?: string };
    try {
      return await objects.read({
        apiVersion: String(object.apiVersion),
        kind: String(object.kind),
        metadata: { name: meta.name ?? "", namespace },
      });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  };

/**
 * Why a workload that is not Current is not: its kstatus message, and a ResourceQuota refusal of its pods, named,
 * when there is one (quota-refusal.ts): a Deployment's or ReplicaSet's from its ReplicaFailure condition, a
 * StatefulSet's from its FailedCreate events.
 */
async function withRefusal(
  core: CoreV1Api,
  live: LiveObject,
  message: string,
  at: { name: string; namespace: string },
): Promise<string> {
  const status = live.status as { conditions?: RefusalSignal[] } | undefined;
  if (live.kind === "Deployment" || live.kind === "ReplicaSet")
    return withQuotaRefusal(message, quotaRefusalOf(status));
  if (live.kind === "StatefulSet")
    return withQuotaRefusal(message, await readQuotaRefusal(core, at));
  return message;
}

/** The objects of a release (helm hooks aside) that are not Current, read live and judged as kstatus does. */
export class ReadinessReader {
  private readonly read: ReadLive;
  private readonly core: CoreV1Api;

  constructor(kc: KubeConfig) {
    this.read = liveReader(KubernetesObjectApi.makeApiClient(kc));
    this.core = kc.makeApiClient(CoreV1Api);
  }

  async notReady(objects: readonly RenderedObject[], namespace: string): Promise<NotReadyObject[]> {
    const notReady: NotReadyObject[] = [];
    for (const { object } of objects) {
      const meta = (object.metadata ?? {}) as {
        name?: string;
        annotations?: Record<string, string>;
      };
      if (!hasReadiness(object) || meta.annotations?.["helm.sh/hook"]) continue;
      const name = meta.name ?? "";
      const id = `${String(object.kind)}/${name}`;
      const live = await this.read(object, namespace);
      if (!live) {
        notReady.push({ id, status: "InProgress", message: "not created yet" });
        continue;
      }
      const { status, message } = objectStatus(live);
      if (status === "Current") continue;
      const why =
        status === "InProgress"
          ? await withRefusal(this.core, live, message, { name, namespace })
          : message;
      notReady.push({ id, status, message: why });
    }
    return notReady;
  }
}

/** Whose an existing namespace is: terminating, this instance's (kept current), or someone else's. */
function judgeNamespace(ns: V1Namespace, ref: InstanceRef): NamespaceClaim | NamespaceOwnership {
  if (ns.metadata?.deletionTimestamp) return { state: "terminating" };
  return namespaceOwnership(ns.metadata?.name ?? "", ns.metadata?.labels, ref);
}

/**
 * Instance namespaces and the objects the helmer applies in them: created, never taken over; applied again only when
 * changed or once per resync period (drift), not on every readiness poll; forgotten when a namespace is deleted, so
 * that a namespace made again later (same instance name) gets its objects and chart credentials anew.
 */
export class NamespaceClaims {
  private readonly core: CoreV1Api;
  private readonly applier: Applier;
  private readonly applied = new Map<string, { fingerprint: string; at: number }>();
  private readonly cached: (name: string) => V1Namespace | undefined;
  private readonly credentials: ChartCredentials;
  private readonly resyncMs: number;

  constructor(o: {
    kc: KubeConfig;
    cached: (name: string) => V1Namespace | undefined;
    credentials: ChartCredentials;
    resyncMs: number;
  }) {
    this.core = o.kc.makeApiClient(CoreV1Api);
    this.applier = new Applier(o.kc, FIELD_MANAGER);
    this.cached = o.cached;
    this.credentials = o.credentials;
    this.resyncMs = o.resyncMs;
  }

  async applyOnce(object: Record<string, unknown>): Promise<void> {
    const meta = object.metadata as { namespace?: string; name?: string };
    const id = `${String(object.kind)}/${meta.namespace ?? ""}/${meta.name ?? ""}`;
    const fingerprint = createHash("sha1").update(JSON.stringify(object)).digest("base64");
    const last = this.applied.get(id);
    if (last?.fingerprint === fingerprint && Date.now() - last.at < this.resyncMs) return;
    await this.applier.apply(object as never);
    this.applied.set(id, { fingerprint, at: Date.now() });
  }

  async claim(object: Obj, ref: InstanceRef): Promise<NamespaceClaim> {
    const name = String((object.metadata as { name?: string }).name);
    let existing = await this.read(name);
    if (!existing) {
      try {
        await this.core.createNamespace({ body: object });
        // A new namespace (perhaps of a name used before): everything in it is applied anew, with new credentials.
        this.forget(name);
        return { state: "ours" };
      } catch (err) {
        // Another instance (or anyone) made it first: judged below, never taken over.
        if (!isConflict(err)) throw err;
        existing = await this.read(name);
        if (!existing) return { state: "terminating" };
      }
    }
    const judged = judgeNamespace(existing, ref);
    if ("state" in judged) return judged;
    if (judged.owner === "other") return { state: "conflict", detail: judged.detail };
    // This instance's: its labels kept current (Pod Security level, and the UID on a namespace made before UIDs).
    await this.applyOnce(object);
    return { state: "ours" };
  }

  async owner(name: string, ref: InstanceRef): Promise<NamespaceOwnership | undefined> {
    const ns = await this.read(name);
    return ns ? namespaceOwnership(name, ns.metadata?.labels, ref) : undefined;
  }

  async exists(name: string): Promise<boolean> {
    try {
      await this.core.readNamespace({ name });
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  /** Whether a namespace is Active, Terminating or gone (read live). */
  async state(name: string): Promise<"Active" | "Terminating" | "Gone"> {
    try {
      const ns = await this.core.readNamespace({ name });
      return ns.status?.phase === "Terminating" || ns.metadata?.deletionTimestamp
        ? "Terminating"
        : "Active";
    } catch (err) {
      if (isNotFound(err)) return "Gone";
      throw err;
    }
  }

  async delete(name: string): Promise<void> {
    this.forget(name);
    try {
      await this.core.deleteNamespace({ name });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  private forget(name: string): void {
    for (const id of this.applied.keys()) {
      const [kind, namespace, objectName] = id.split("/");
      if (namespace === name || (kind === "Namespace" && objectName === name))
        this.applied.delete(id);
    }
    void this.credentials.forget(name);
  }

  private async read(name: string): Promise<V1Namespace | undefined> {
    const cached = this.cached(name);
    if (cached) return cached;
    try {
      return await this.core.readNamespace({ name });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }
}

/**
 * Helm, as each instance namespace's chart identity (never as the helmer): install or upgrade through the post-render
 * step (isolation checks and pod policy in this process), rollback, uninstall, and the release as stored.
 */
export class HelmReleases {
  private readonly helm: HelmOptions;
  private readonly postRenders: PostRenderServer;
  private readonly credentials: ChartCredentials;
  private readonly releases: ReleaseReader;
  private readonly applier: Applier;
  private readonly namespaces: NamespaceClaims;

  constructor(o: {
    kc: KubeConfig;
    helm: HelmOptions;
    postRenders: PostRenderServer;
    credentials: ChartCredentials;
    namespaces: NamespaceClaims;
  }) {
    this.helm = o.helm;
    this.postRenders = o.postRenders;
    this.credentials = o.credentials;
    this.releases = new ReleaseReader(o.kc);
    this.applier = new Applier(o.kc, FIELD_MANAGER);
    this.namespaces = o.namespaces;
  }

  latest(plan: InstancePlan): Promise<ReleaseState | undefined> {
    return this.releases.latest(plan.release, plan.namespace);
  }

  async upgradeInstall(
    plan: InstancePlan,
    chart: { path: string },
    values: Record<string, unknown>,
    checks: PostRenderChecks,
  ): Promise<RenderedObject[] | undefined> {
    const run = await this.postRenders.around(
      (manifests) => answerPostRender(manifests, checks.policy, (o) => checks.isolationProblems(o)),
      async (token) =>
        upgradeInstall(await this.helmIn(plan.namespace), {
          release: plan.release,
          namespace: plan.namespace,
          chartPath: chart.path,
          values,
          postRenderer: { name: POST_RENDERER, args: [token] },
        }),
    );
    const { answer, error, failure } = run;
    // A refusal is why helm failed only when helm says its post-render step did (not a helm killed on timeout
    // while it was still sending the manifests).
    if (answer && !answer.ok && (!error || /post.render/i.test(error.message)))
      throw new IsolationRefusal(answer.problems);
    if (failure !== undefined)
      throw new Error(`helm's rendered manifests could not be read: ${failure}`);
    if (error) throw error;
    return answer?.ok ? answer.objects : undefined;
  }

  async rollback(plan: InstancePlan): Promise<number | undefined> {
    return rollbackToLastDeployed(await this.helmIn(plan.namespace), plan.release, plan.namespace);
  }

  async uninstall(plan: InstancePlan): Promise<void> {
    // A namespace KubePlus made, already gone or going, takes the release with it.
    const ns = await this.namespaces.state(plan.namespace);
    if (plan.createNamespace && ns !== "Active") return;
    // An instance from before chart identities existed gets one now.
    for (const object of chartIdentity(plan.namespace)) await this.applier.apply(object);
    await uninstall(await this.helmIn(plan.namespace), plan.release, plan.namespace);
  }

  private async helmIn(namespace: string): Promise<HelmOptions> {
    return { ...this.helm, kubeconfig: await this.credentials.kubeconfigFor(namespace) };
  }
}

/** The chart identity's credentials for helm runs, one kubeconfig per instance namespace. */
export function chartCredentials(kc: KubeConfig, postRenders: PostRenderServer): ChartCredentials {
  return new ChartCredentials({
    kc,
    dir: postRenders.dir,
    serviceAccount: ISOLATION.ChartIdentity,
  });
}

/**
 * Why an instance does not take a slot before any count: the gate listed it, its pin holds it, the rollout is
 * paused, or its wave is not open. Undefined: it may ask for a slot.
 */
function heldBack(
  rc: ResourceComposition,
  instance: Instance,
  o: { instanceKey: string; instances: { list(): readonly Instance[] }; digest: string },
): FleetDecision | undefined {
  if (incompatibility(rc, instance, o.digest)) return "incompatible";
  const version = rc.status?.chart?.digest === o.digest ? (rc.status.chart.version ?? "") : "";
  if (pinnedAway(instance, version)) return "pinned";
  if (rc.spec.upgrade?.paused === true) return "paused";
  if (!hasWaves(rc.spec.upgrade)) return undefined;
  const verdict = waveVerdict({
    key: o.instanceKey,
    members: membersOf(rc, { version, digest: o.digest }, o.instances.list()),
    upgrade: rc.spec.upgrade,
    recorded: rc.status?.rollout,
    digest: o.digest,
  });
  return verdict.go ? undefined : "wave";
}

/** A slot in a composition's fleet rollout for one instance moving to a new chart (fleet.ts decides). */
export function fleetSlot(o: {
  slots: FleetSlots;
  rcKey: string;
  instanceKey: string;
  /** The instance asking: held when the composition's compatibility gate listed it. */
  instance?: Instance;
  composition: ResourceComposition | undefined;
  instances: { list(): readonly Instance[] };
  digest: string;
}): FleetDecision {
  const { slots, rcKey, instanceKey } = o;
  if (slots.holds(rcKey, instanceKey)) return "go";
  const held = o.instance && o.composition ? heldBack(o.composition, o.instance, o) : undefined;
  if (held) return held;
  const failed = o.instances.list().filter((i) => failedOn(i, o.digest)).length;
  const decision = decideChartUpgrade({
    inFlight: slots.inFlight(rcKey),
    failed,
    ...(o.composition ? upgradeLimits(o.composition) : { maxInFlight: 1, failureBudget: 1 }),
  });
  if (decision === "go") slots.take(rcKey, instanceKey);
  return decision;
}

/** The status writer of instances of one generated kind (its group, version and plural). */
export function instanceStatusWriter(
  kc: KubeConfig,
  gvr: () => { group: string; version: string; plural: string },
): StatusWriter<InstanceStatus, Instance> {
  const custom = kc.makeApiClient(CustomObjectsApi);
  return new StatusWriter<InstanceStatus, Instance>(
    async (instance, fields) =>
      (await patchStatus(
        custom,
        {
          ...gvr(),
          namespace: instance.metadata.namespace ?? "",
          name: instance.metadata.name ?? "",
        },
        fields,
      )) as Written<InstanceStatus>,
  );
}
