import { createHash } from "node:crypto";
import {
  CoreV1Api,
  CustomObjectsApi,
  KubernetesObjectApi,
  type KubeConfig,
  type KubernetesObject,
  type V1Namespace,
} from "@kubernetes/client-node";
import {
  ConditionType,
  namespaceOwnership,
  reservedNamespaceReason,
  type Instance,
  type InstanceRef,
  type NamespaceOwnership,
  type ResourceComposition,
} from "@kubeplus/api";
import { lintRendered, type LintContext, type RenderedObject } from "@kubeplus/charts";
import {
  Applier,
  isConflict,
  isNotFound,
  patchStatus,
  startCache,
  type WatchedCache,
} from "@kubeplus/kube";
import type { Logger } from "@kubeplus/runtime";
import type { Bus } from "../bus.js";
import type { ChartStore } from "../charts/chart-store.js";
import { ChartCredentials } from "../helm/chart-credentials.js";
import { chartIdentity, ISOLATION, type ServiceAccountRef } from "./instance-desired.js";
import { ReleaseReader } from "../helm/release-storage.js";
import {
  rollbackToLastDeployed,
  uninstall,
  upgradeInstall,
  type HelmOptions,
} from "../helm/helm-cli.js";
import type { PostRenderServer } from "../helm/post-render-server.js";
import { POST_RENDERER } from "../helm/post-renderer-plugin.js";
import { answerPostRender } from "../policy/post-render.js";
import { decideChartUpgrade, failedOn, upgradeLimits } from "./fleet.js";
import type { FleetSlots } from "./fleet-slots.js";
import { FIELD_MANAGER } from "./reconcile-composition.js";
import {
  IsolationRefusal,
  reconcileInstance,
  type InstanceReconcileDeps,
  type NamespaceClaim,
} from "./reconcile-instance.js";
import {
  quotaRefusalOf,
  readQuotaRefusal,
  withQuotaRefusal,
  type RefusalSignal,
} from "./quota-refusal.js";
import { hasReadiness, objectStatus, type LiveObject, type NotReadyObject } from "./readiness.js";
import { WakeFilter } from "./wake.js";
import { WorkQueue } from "./work-queue.js";

export interface InstanceControllerOptions {
  readonly kc: KubeConfig;
  readonly store: ChartStore;
  readonly helm: HelmOptions;
  /** Where helm's post-render step comes back to this helmer. */
  readonly postRenders: PostRenderServer;
  readonly compositions: WatchedCache<ResourceComposition & KubernetesObject>;
  readonly log: Logger;
  readonly concurrency: number;
  readonly bus: Bus;
  readonly slots: FleetSlots;
  /** The cluster's storage classes and kinds, for checking each instance's rendered chart. */
  readonly lintContext: (allow: ReadonlySet<string>) => LintContext;
  /** Called when an instance of a composition changed (fleet progress is the composition's to report). */
  readonly onInstanceChange?: (rcKey: string) => void;
  readonly resyncMs: number;
  /** The helmer's own ServiceAccount, when it runs as one. */
  readonly self?: ServiceAccountRef;
  /** The cluster's pod and service ranges (CLUSTER_CIDRS), kept out of instances' egress ipBlocks. */
  readonly clusterCidrs: readonly string[];
  /** Where a metrics-collector outside the cluster scrapes appEndpoints from (METRICS_COLLECTOR_CIDRS). */
  readonly metricsCollectorCidrs?: readonly string[];
  /** The namespace KubePlus runs in, and the administrator's further names no instance namespace may have. */
  readonly kubeplusNamespace: string;
  readonly reservedNamespaces: readonly string[];
}

export interface InstanceController {
  /** The instances of a composition (`namespace/name`), or undefined when its kind is not watched yet. */
  instancesOf(rcKey: string): readonly Instance[] | undefined;
  stop(): Promise<void>;
}

type InstanceObject = Instance & KubernetesObject;

const objectKey = (o: { metadata: { namespace?: string; name?: string } }): string =>
  `${o.metadata.namespace ?? ""}/${o.metadata.name ?? ""}`;
const instanceKey = objectKey;

const isRegistered = (rc: ResourceComposition): boolean =>
  !!rc.status?.crd &&
  rc.status.conditions?.some((c) => c.type === ConditionType.Ready && c.status === "True") === true;

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
async function notReadyObjects(
  read: ReadLive,
  core: CoreV1Api,
  objects: readonly RenderedObject[],
  namespace: string,
): Promise<NotReadyObject[]> {
  const notReady: NotReadyObject[] = [];
  for (const { object } of objects) {
    const meta = (object.metadata ?? {}) as { name?: string; annotations?: Record<string, string> };
    if (!hasReadiness(object) || meta.annotations?.["helm.sh/hook"]) continue;
    const name = meta.name ?? "";
    const id = `${String(object.kind)}/${name}`;
    const live = await read(object, namespace);
    if (!live) {
      notReady.push({ id, status: "InProgress", message: "not created yet" });
      continue;
    }
    const { status, message } = objectStatus(live);
    if (status === "Current") continue;
    const why =
      status === "InProgress"
        ? await withRefusal(core, live, message, { name, namespace })
        : message;
    notReady.push({ id, status, message: why });
  }
  return notReady;
}

/** Whether a namespace is Active, Terminating or gone. */
async function namespaceState(
  core: CoreV1Api,
  name: string,
): Promise<"Active" | "Terminating" | "Gone"> {
  try {
    const ns = await core.readNamespace({ name });
    return ns.status?.phase === "Terminating" || ns.metadata?.deletionTimestamp
      ? "Terminating"
      : "Active";
  } catch (err) {
    if (isNotFound(err)) return "Gone";
    throw err;
  }
}

async function namespaceExists(core: CoreV1Api, name: string): Promise<boolean> {
  try {
    await core.readNamespace({ name });
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

/** Whose an existing namespace is: terminating, this instance's (kept current), or someone else's. */
function judgeNamespace(ns: V1Namespace, ref: InstanceRef): NamespaceClaim | NamespaceOwnership {
  if (ns.metadata?.deletionTimestamp) return { state: "terminating" };
  return namespaceOwnership(ns.metadata?.name ?? "", ns.metadata?.labels, ref);
}

/**
 * Keeps every instance of every registered kind converged: one watched cache per generated kind (started when its
 * composition is registered), one keyed work queue for all of them.
 */
export async function startInstanceController(
  options: InstanceControllerOptions,
): Promise<InstanceController> {
  const { kc, store, helm, compositions, log, slots } = options;
  const custom = kc.makeApiClient(CustomObjectsApi);
  const core = kc.makeApiClient(CoreV1Api);
  const readLive = liveReader(KubernetesObjectApi.makeApiClient(kc));
  const applier = new Applier(kc, FIELD_MANAGER);
  const applied = new Map<string, { fingerprint: string; at: number }>();
  const releases = new ReleaseReader(kc);
  // Helm acts in each instance namespace as that namespace's chart identity, never as the helmer.
  const credentials = new ChartCredentials({
    kc,
    dir: options.postRenders.dir,
    serviceAccount: ISOLATION.ChartIdentity,
  });
  const helmIn = async (namespace: string): Promise<HelmOptions> => ({
    ...helm,
    kubeconfig: await credentials.kubeconfigFor(namespace),
  });
  const onError = (err: unknown): void => {
    log.warn({ err }, "watch failed; restarting it");
  };
  const namespaces = await startCache<V1Namespace>({
    kc,
    onError,
    path: "/api/v1/namespaces",
    list: () => core.listNamespace(),
  });
  const kinds = new Map<string, { rcKey: string; cache: WatchedCache<InstanceObject> }>();

  const compositionOf = (rcKey: string): ResourceComposition | undefined => {
    const [ns = "", name = ""] = rcKey.split("/");
    return compositions.get(name, ns);
  };

  // Unchanged objects are applied again only once per resync period (drift), not on every readiness poll.
  const applyOnce = async (object: Record<string, unknown>): Promise<void> => {
    const meta = object.metadata as { namespace?: string; name?: string };
    const id = `${String(object.kind)}/${meta.namespace ?? ""}/${meta.name ?? ""}`;
    const fingerprint = createHash("sha1").update(JSON.stringify(object)).digest("base64");
    const last = applied.get(id);
    if (last?.fingerprint === fingerprint && Date.now() - last.at < options.resyncMs) return;
    await applier.apply(object as never);
    applied.set(id, { fingerprint, at: Date.now() });
  };
  /** A namespace made again later (same instance name) must get its objects and its chart credentials again. */
  const forgetNamespace = (name: string): void => {
    for (const id of applied.keys()) {
      const [kind, namespace, objectName] = id.split("/");
      if (namespace === name || (kind === "Namespace" && objectName === name)) applied.delete(id);
    }
    void credentials.forget(name);
  };
  const readNamespace = async (name: string): Promise<V1Namespace | undefined> => {
    const cached = namespaces.get(name);
    if (cached) return cached;
    try {
      return await core.readNamespace({ name });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  };
  const claimNamespace = async (
    object: Record<string, unknown>,
    ref: InstanceRef,
  ): Promise<NamespaceClaim> => {
    const name = String((object.metadata as { name?: string }).name);
    let existing = await readNamespace(name);
    if (!existing) {
      try {
        await core.createNamespace({ body: object });
        // A new namespace (perhaps of a name used before): everything in it is applied anew, with new credentials.
        forgetNamespace(name);
        return { state: "ours" };
      } catch (err) {
        // Another instance (or anyone) made it first: judged below, never taken over.
        if (!isConflict(err)) throw err;
        existing = await readNamespace(name);
        if (!existing) return { state: "terminating" };
      }
    }
    const judged = judgeNamespace(existing, ref);
    if ("state" in judged) return judged;
    if (judged.owner === "other") return { state: "conflict", detail: judged.detail };
    // This instance's: its labels kept current (Pod Security level, and the UID on a namespace made before UIDs).
    await applyOnce(object);
    return { state: "ours" };
  };

  const depsFor = (rcKey: string, cache: WatchedCache<InstanceObject>): InstanceReconcileDeps => {
    const gvr = (): { group: string; version: string; plural: string } => {
      const r = compositionOf(rcKey)?.spec.newResource.resource;
      return { group: r?.group ?? "", version: r?.version ?? "", plural: r?.plural ?? "" };
    };
    return {
      ...(options.self ? { self: options.self } : {}),
      // Kept out of tenants' egress (NATS, crd-hook).
      platformNamespace: options.kubeplusNamespace,
      clusterCidrs: options.clusterCidrs,
      ...(options.metricsCollectorCidrs
        ? { metricsCollectorCidrs: options.metricsCollectorCidrs }
        : {}),
      get: (namespace, name) => cache.get(name, namespace),
      composition: () => compositionOf(rcKey),
      namespaceLabels: (name) => namespaces.get(name)?.metadata?.labels,
      namespaceExists: (name) => namespaceExists(core, name),
      reservedNamespace: (name) =>
        reservedNamespaceReason(name, options.kubeplusNamespace, options.reservedNamespaces),
      claimNamespace,
      namespaceOwner: async (name, ref) => {
        const ns = await readNamespace(name);
        if (!ns) return undefined;
        return namespaceOwnership(name, ns.metadata?.labels, ref);
      },
      deleteNamespace: async (name) => {
        forgetNamespace(name);
        try {
          await core.deleteNamespace({ name });
        } catch (err) {
          if (!isNotFound(err)) throw err;
        }
      },
      apply: applyOnce,
      setFinalizers: async (instance, finalizers) => {
        await custom.replaceNamespacedCustomObject({
          ...gvr(),
          namespace: instance.metadata.namespace ?? "",
          name: instance.metadata.name ?? "",
          body: { ...instance, metadata: { ...instance.metadata, finalizers } },
        });
      },
      writeStatus: async (instance, status) => {
        const current = (instance.status ?? {}) as Record<string, unknown>;
        const unchanged = Object.entries(status).every(
          ([k, v]) => JSON.stringify(current[k] ?? null) === JSON.stringify(v ?? null),
        );
        if (unchanged) return;
        await patchStatus(
          custom,
          {
            ...gvr(),
            namespace: instance.metadata.namespace ?? "",
            name: instance.metadata.name ?? "",
          },
          status,
        );
      },
      chart: (rc) => store.chart(rc.spec.newResource.chartURL, rc.spec.newResource.chartName),
      render: (chart, plan, values) =>
        store.render(chart, { releaseName: plan.release, namespace: plan.namespace, values }),
      isolationProblems: (rc, rendered, namespace) =>
        lintRendered(rendered, {
          ...options.lintContext(new Set(rc.spec.isolation?.allow ?? [])),
          tenancy: {
            namespace,
            allowClusterRoles: new Set(rc.spec.isolation?.allowClusterRoles ?? []),
            reservedServiceAccounts: new Set([ISOLATION.ChartIdentity]),
          },
        }).problems.map((p) => `${p.path}: ${p.message}`),
      release: (plan) => releases.latest(plan.release, plan.namespace),
      upgradeInstall: async (plan, chart, values, checks) => {
        const run = await options.postRenders.around(
          (manifests) =>
            answerPostRender(manifests, checks.policy, (o) => checks.isolationProblems(o)),
          async (token) =>
            upgradeInstall(await helmIn(plan.namespace), {
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
      },
      rollback: async (plan) =>
        rollbackToLastDeployed(await helmIn(plan.namespace), plan.release, plan.namespace),
      uninstall: async (plan) => {
        // A namespace KubePlus made, already gone or going, takes the release with it.
        const ns = await namespaceState(core, plan.namespace);
        if (plan.createNamespace && ns !== "Active") return;
        // An instance from before chart identities existed gets one now.
        for (const object of chartIdentity(plan.namespace)) await applier.apply(object);
        await uninstall(await helmIn(plan.namespace), plan.release, plan.namespace);
      },
      notReady: (rendered, namespace) => notReadyObjects(readLive, core, rendered, namespace),
      fleetSlot: (instance, digest) => {
        const key = instanceKey(instance);
        if (slots.holds(rcKey, key)) return "go";
        const rc = compositionOf(rcKey);
        const failed = cache.list().filter((i) => failedOn(i, digest)).length;
        const decision = decideChartUpgrade({
          inFlight: slots.inFlight(rcKey),
          failed,
          ...(rc ? upgradeLimits(rc) : { maxInFlight: 1, failureBudget: 1 }),
        });
        if (decision === "go") slots.take(rcKey, key);
        return decision;
      },
      releaseFleetSlot: (instance) => {
        slots.give(rcKey, instanceKey(instance));
        options.onInstanceChange?.(rcKey);
      },
      emit: (event) => {
        try {
          options.bus.publish(event.subject, event.payload);
        } catch (err) {
          log.warn({ err, subject: event.subject }, "event not published");
        }
      },
      resyncMs: options.resyncMs,
      now: () => new Date(),
    };
  };

  const queue = new WorkQueue({
    concurrency: options.concurrency,
    reconcile: (key) => {
      const [rcKey = "", instanceKey = ""] = key.split("|");
      const entry = [...kinds.values()].find((k) => k.rcKey === rcKey);
      if (!entry) return Promise.resolve({});
      const [namespace = "", name = ""] = instanceKey.split("/");
      return reconcileInstance(namespace, name, depsFor(rcKey, entry.cache));
    },
    onError: (key, err, retryInMs) => {
      log.warn({ err, instance: key, retryInMs }, "instance reconcile failed; retrying");
    },
  });

  const watchKind = async (rc: ResourceComposition): Promise<void> => {
    const r = rc.spec.newResource.resource;
    const gvrKey = `${r.group}/${r.version}/${r.plural}`;
    if (kinds.has(gvrKey) || !isRegistered(rc)) return;
    const rcKey = `${rc.metadata.namespace ?? ""}/${rc.metadata.name ?? ""}`;
    const cache = await startCache<InstanceObject>({
      kc,
      onError,
      path: `/apis/${r.group}/${r.version}/${r.plural}`,
      list: () =>
        custom.listClusterCustomObject({
          group: r.group,
          version: r.version,
          plural: r.plural,
        }) as never,
    });
    kinds.set(gvrKey, { rcKey, cache });
    const enqueue = (o: InstanceObject): void => {
      queue.add(`${rcKey}|${instanceKey(o)}`);
    };
    const wake = new WakeFilter();
    cache.onChange((o, event) => {
      if (!wake.wakes(instanceKey(o), o.metadata, event)) {
        options.onInstanceChange?.(rcKey);
        return;
      }
      enqueue(o);
      options.onInstanceChange?.(rcKey);
    });
    cache.list().forEach(enqueue);
    log.info({ kind: r.kind, group: r.group }, "watching instances");
  };
  // Per composition: the spec generation and registered chart its instances were last woken for.
  const seen = new Map<string, string>();
  /** A composition's new spec or newly registered chart concerns every one of its instances (not its progress reports). */
  const wakeInstancesOf = (rc: ResourceComposition): void => {
    const rcKey = objectKey(rc);
    const version = JSON.stringify([
      rc.metadata.generation,
      rc.status?.observedGeneration,
      rc.status?.chart?.digest,
    ]);
    if (seen.get(rcKey) === version) return;
    seen.set(rcKey, version);
    for (const entry of kinds.values())
      if (entry.rcKey === rcKey)
        for (const o of entry.cache.list()) queue.add(`${rcKey}|${instanceKey(o)}`);
  };
  /** A kind whose composition is gone is not served any more: stop watching it. */
  const forgetRemovedKinds = (): void => {
    const present = new Set(compositions.list().map(objectKey));
    for (const [gvrKey, entry] of kinds) {
      if (present.has(entry.rcKey)) continue;
      kinds.delete(gvrKey);
      seen.delete(entry.rcKey);
      void entry.cache.stop();
      log.info({ resource: gvrKey }, "stopped watching instances: composition removed");
    }
  };
  const watchAll = (changed?: ResourceComposition): void => {
    if (changed) wakeInstancesOf(changed);
    forgetRemovedKinds();
    for (const rc of compositions.list()) {
      watchKind(rc).catch((err: unknown) => {
        log.warn(
          { err, kind: rc.spec.newResource.resource.kind },
          "could not watch instances; retrying on the next change",
        );
      });
    }
  };
  compositions.onChange(watchAll);
  watchAll();
  return {
    instancesOf: (rcKey) => [...kinds.values()].find((k) => k.rcKey === rcKey)?.cache.list(),
    stop: async () => {
      queue.stop();
      await Promise.all([namespaces.stop(), ...[...kinds.values()].map((k) => k.cache.stop())]);
    },
  };
}
