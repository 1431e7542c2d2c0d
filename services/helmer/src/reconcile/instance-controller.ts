import {
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  type KubernetesObject,
  type V1Namespace,
} from "@kubernetes/client-node";
import {
  ConditionType,
  isConditionTrue,
  reservedNamespaceReason,
  type Instance,
  type InstanceStatus,
  type ResourceComposition,
} from "@kubeplus/api";
import { lintRendered, type LintContext } from "@kubeplus/charts";
import { asReconcileError, startCache, type WatchedCache } from "@kubeplus/kube";
import type { Logger, ServiceMetrics } from "@kubeplus/runtime";
import type { Bus } from "../bus.js";
import type { ChartStore } from "../charts/chart-store.js";
import type { HelmOptions } from "../helm/helm-cli.js";
import type { PostRenderServer } from "../helm/post-render-server.js";
import type { FleetSlots } from "./fleet-slots.js";
import { recordEvent } from "./kube-events.js";
import {
  chartCredentials,
  fleetSlot,
  HelmReleases,
  instanceStatusWriter,
  NamespaceClaims,
  ReadinessReader,
} from "./instance-adapters.js";
import { ISOLATION, type ServiceAccountRef } from "./instance-desired.js";
import type { StatusWriter } from "./status-writer.js";
import type { InstanceReconcileDeps } from "./instance/deps.js";
import {
  reconcileInstance,
  reportQueued,
  reportRetrying,
  reportTerminal,
} from "./instance/reconcile.js";
import { saysNothingYet } from "./instance/status.js";
import { WakeFilter } from "./wake.js";
import { controllerMetrics, WorkQueue } from "./work-queue.js";

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
  /** The service's metrics: this controller's queue and reconciles, and its helm runs. */
  readonly metrics?: ServiceMetrics;
}

type InstanceObject = Instance & KubernetesObject;

/** What of a composition concerns all of its instances (its spec, chart, gate, rollout wave): a change wakes them. */
function wakeVersion(rc: ResourceComposition): string {
  const gate = rc.status?.compatibility;
  return JSON.stringify([
    rc.metadata.generation,
    rc.status?.observedGeneration,
    rc.status?.chart?.digest,
    gate?.digest,
    gate?.incompatible?.map((i) => `${i.namespace}/${i.name}`),
    rc.status?.rollout?.phase,
    rc.status?.rollout?.wave,
  ]);
}

/** The watched instances of one generated kind, and the composition that serves it. */
interface WatchedKind {
  readonly rcKey: string;
  readonly cache: WatchedCache<InstanceObject>;
  /** Its instances' status writer: the only writer, which also shows its own writes before the cache does. */
  readonly statuses: StatusWriter<InstanceStatus, Instance>;
  readonly deps: InstanceReconcileDeps;
}

const objectKey = (o: { metadata: { namespace?: string; name?: string } }): string =>
  `${o.metadata.namespace ?? ""}/${o.metadata.name ?? ""}`;

const isRegistered = (rc: ResourceComposition): boolean =>
  !!rc.status?.crd && isConditionTrue(rc.status.conditions, ConditionType.Ready);

/** The adapters every kind's reconciles share (instance-adapters.ts). */
interface Adapters {
  readonly namespaces: WatchedCache<V1Namespace>;
  readonly claims: NamespaceClaims;
  readonly helm: HelmReleases;
  readonly readiness: ReadinessReader;
}

/**
 * Keeps every instance of every registered kind converged: one watched cache per generated kind (started when its
 * composition is registered), one keyed work queue for all of them; reconcileInstance does the work.
 */
export class InstanceController {
  private readonly options: InstanceControllerOptions;
  private readonly adapters: Adapters;
  private readonly kinds = new Map<string, WatchedKind>();
  /** Per composition: the spec generation and registered chart its instances were last woken for. */
  private readonly seen = new Map<string, string>();
  private readonly queue: WorkQueue;
  /** Status writes of new instances waiting for a worker; the instance's reconcile starts after its write. */
  private readonly acknowledgements = new Map<string, Promise<void>>();
  /** Kinds whose instance watch is starting (the list and the watch take a while on a busy apiserver). */
  private readonly starting = new Set<string>();

  private constructor(options: InstanceControllerOptions, adapters: Adapters) {
    this.options = options;
    this.adapters = adapters;
    const { log } = options;
    this.queue = new WorkQueue({
      concurrency: options.concurrency,
      metrics: controllerMetrics(options.metrics, "instance", options.concurrency),
      reconcile: (key) => this.reconcile(key),
      onError: (key, err, retryInMs) => {
        log.warn({ err, instance: key, retryInMs }, "instance reconcile failed; retrying");
        this.acknowledge(key, (instance, deps) => reportRetrying(instance, err, retryInMs, deps));
      },
      onTerminal: async (key, err) => {
        log.warn(
          { err, instance: key },
          "instance reconcile failed; not retrying until it changes",
        );
        const found = this.find(key);
        const instance = found?.kind.deps.get(found.namespace, found.name);
        if (found && instance) await reportTerminal(instance, err, found.kind.deps);
      },
      onRequeue: (key, err) => {
        log.debug({ err, instance: key, retryInMs: err.afterMs }, "instance reconcile requeued");
      },
    });
  }

  static async start(options: InstanceControllerOptions): Promise<InstanceController> {
    const { kc, log } = options;
    const core = kc.makeApiClient(CoreV1Api);
    const namespaces = await startCache<V1Namespace>({
      kc,
      onError: (err: unknown) => {
        log.warn({ err }, "watch failed; restarting it");
      },
      path: "/api/v1/namespaces",
      list: () => core.listNamespace(),
    });
    // Helm acts in each instance namespace as that namespace's chart identity, never as the helmer.
    const credentials = chartCredentials(kc, options.postRenders);
    const claims = new NamespaceClaims({
      kc,
      cached: (name) => namespaces.get(name),
      credentials,
      resyncMs: options.resyncMs,
    });
    const helm = new HelmReleases({
      kc,
      helm: options.helm,
      postRenders: options.postRenders,
      credentials,
      namespaces: claims,
    });
    const readiness = new ReadinessReader(kc);
    const controller = new InstanceController(options, { namespaces, claims, helm, readiness });
    options.compositions.onChange((rc) => {
      controller.watchAll(rc);
    });
    controller.watchAll();
    return controller;
  }

  /** The instances of a composition (`namespace/name`), or undefined when its kind is not watched yet. */
  instancesOf(rcKey: string): readonly Instance[] | undefined {
    const kind = [...this.kinds.values()].find((k) => k.rcKey === rcKey);
    return kind?.cache.list().map((i) => kind.statuses.current(i));
  }

  async stop(): Promise<void> {
    this.queue.stop();
    await Promise.all([
      this.adapters.namespaces.stop(),
      ...[...this.kinds.values()].map((k) => k.cache.stop()),
    ]);
  }

  /** Keys are `<composition namespace/name>|<instance namespace/name>`. */
  private find(key: string): { kind: WatchedKind; namespace: string; name: string } | undefined {
    const [rcKey = "", instanceKey = ""] = key.split("|");
    const kind = [...this.kinds.values()].find((k) => k.rcKey === rcKey);
    const [namespace = "", name = ""] = instanceKey.split("/");
    return kind ? { kind, namespace, name } : undefined;
  }

  private async reconcile(key: string): Promise<{ requeueAfterMs?: number }> {
    const found = this.find(key);
    if (!found) return {};
    // Its "waiting for a worker" lands before anything this reconcile writes, never after it.
    await this.acknowledgements.get(key);
    try {
      return await reconcileInstance(found.namespace, found.name, found.kind.deps);
    } catch (err) {
      throw asReconcileError(err);
    }
  }

  private compositionOf(rcKey: string): ResourceComposition | undefined {
    const [ns = "", name = ""] = rcKey.split("/");
    return this.options.compositions.get(name, ns);
  }

  /** What reconciling an instance of one kind needs, from the adapters and this kind's cache. */
  private depsFor(
    rcKey: string,
    cache: WatchedCache<InstanceObject>,
    statuses: StatusWriter<InstanceStatus, Instance>,
  ): InstanceReconcileDeps {
    const { options } = this;
    const { claims, helm, readiness, namespaces } = this.adapters;
    const gvr = (): { group: string; version: string; plural: string } => {
      const r = this.compositionOf(rcKey)?.spec.newResource.resource;
      return { group: r?.group ?? "", version: r?.version ?? "", plural: r?.plural ?? "" };
    };
    const custom = options.kc.makeApiClient(CustomObjectsApi);
    const core = options.kc.makeApiClient(CoreV1Api);
    const instances = { list: () => cache.list().map((i) => statuses.current(i)) };
    return {
      ...(options.self ? { self: options.self } : {}),
      // Kept out of tenants' egress (NATS, crd-hook).
      platformNamespace: options.kubeplusNamespace,
      clusterCidrs: options.clusterCidrs,
      ...(options.metricsCollectorCidrs
        ? { metricsCollectorCidrs: options.metricsCollectorCidrs }
        : {}),
      get: (namespace, name) => statuses.current(cache.get(name, namespace)),
      composition: () => this.compositionOf(rcKey),
      namespaceLabels: (name) => namespaces.get(name)?.metadata?.labels,
      namespaceExists: (name) => claims.exists(name),
      reservedNamespace: (name) =>
        reservedNamespaceReason(name, options.kubeplusNamespace, options.reservedNamespaces),
      claimNamespace: (object, ref) => claims.claim(object, ref),
      namespaceOwner: (name, ref) => claims.owner(name, ref),
      deleteNamespace: (name) => claims.delete(name),
      apply: (object) => claims.applyOnce(object),
      setFinalizers: async (instance, finalizers) => {
        await custom.replaceNamespacedCustomObject({
          ...gvr(),
          namespace: instance.metadata.namespace ?? "",
          name: instance.metadata.name ?? "",
          body: { ...instance, metadata: { ...instance.metadata, finalizers } },
        });
      },
      writeStatus: async (instance, status) => {
        await statuses.write(instance, status);
      },
      chart: (rc) =>
        options.store.chart(rc.spec.newResource.chartURL, rc.spec.newResource.chartName),
      render: (chart, plan, values) =>
        options.store.render(chart, {
          releaseName: plan.release,
          namespace: plan.namespace,
          values,
        }),
      isolationProblems: (rc, rendered, namespace) =>
        lintRendered(rendered, {
          ...options.lintContext(new Set(rc.spec.isolation?.allow ?? [])),
          tenancy: {
            namespace,
            allowClusterRoles: new Set(rc.spec.isolation?.allowClusterRoles ?? []),
            reservedServiceAccounts: new Set([ISOLATION.ChartIdentity]),
          },
        }).problems.map((p) => `${p.path}: ${p.message}`),
      release: (plan) => helm.latest(plan),
      upgradeInstall: (plan, chart, values, checks) =>
        helm.upgradeInstall(plan, chart, values, checks),
      rollback: (plan) => helm.rollback(plan),
      uninstall: (plan) => helm.uninstall(plan),
      notReady: (rendered, namespace) => readiness.notReady(rendered, namespace),
      fleetSlot: (instance, digest) =>
        fleetSlot({
          slots: options.slots,
          rcKey,
          instanceKey: objectKey(instance),
          instance,
          composition: this.compositionOf(rcKey),
          instances,
          digest,
        }),
      releaseFleetSlot: (instance) => {
        options.slots.give(rcKey, objectKey(instance));
        options.onInstanceChange?.(rcKey);
      },
      emit: (event) => {
        try {
          options.bus.publish(event.subject, event.payload);
        } catch (err) {
          options.log.warn({ err, subject: event.subject }, "event not published");
        }
      },
      recordEvent: (instance, event) => recordEvent(core, instance, event),
      resyncMs: options.resyncMs,
      now: () => new Date(),
      log: options.log,
    };
  }

  /**
   * Starts watching the instances of a registered composition's kind, once: every change of any composition calls
   * this, and one that comes while the watch of the kind is still starting must not start a second one.
   */
  private async watchKind(rc: ResourceComposition): Promise<void> {
    const r = rc.spec.newResource.resource;
    const gvrKey = `${r.group}/${r.version}/${r.plural}`;
    if (this.kinds.has(gvrKey) || this.starting.has(gvrKey) || !isRegistered(rc)) return;
    this.starting.add(gvrKey);
    try {
      await this.startWatchingKind(rc, gvrKey);
    } finally {
      this.starting.delete(gvrKey);
    }
  }

  private async startWatchingKind(rc: ResourceComposition, gvrKey: string): Promise<void> {
    const { kc, log } = this.options;
    const r = rc.spec.newResource.resource;
    const rcKey = objectKey(rc);
    const custom = kc.makeApiClient(CustomObjectsApi);
    const cache = await startCache<InstanceObject>({
      kc,
      onError: (err: unknown) => {
        log.warn({ err }, "watch failed; restarting it");
      },
      path: `/apis/${r.group}/${r.version}/${r.plural}`,
      list: () =>
        custom.listClusterCustomObject({
          group: r.group,
          version: r.version,
          plural: r.plural,
        }) as never,
    });
    const gvr = { group: r.group, version: r.version, plural: r.plural };
    const statuses = instanceStatusWriter(kc, () => gvr);
    const kind = { rcKey, cache, statuses, deps: this.depsFor(rcKey, cache, statuses) };
    this.kinds.set(gvrKey, kind);
    const enqueue = (o: InstanceObject): void => {
      this.enqueue(kind, o);
    };
    const wake = new WakeFilter();
    cache.onChange((o, event) => {
      if (event === "delete") statuses.forget(o);
      if (wake.wakes(objectKey(o), o.metadata, event)) enqueue(o);
      this.options.onInstanceChange?.(rcKey);
    });
    cache.list().forEach(enqueue);
    log.info({ kind: r.kind, group: r.group }, "watching instances");
  }

  /**
   * Queues a reconcile of the instance. A new instance that has to wait for a worker (all of them busy, with other
   * instances' helm runs) says so at once: its status is never empty for longer than one status write.
   */
  private enqueue(kind: WatchedKind, o: InstanceObject): void {
    const key = `${kind.rcKey}|${objectKey(o)}`;
    this.queue.add(key);
    const ahead = this.queue.waiting(key);
    if (ahead === undefined) return;
    this.acknowledge(key, (instance, deps) =>
      saysNothingYet(instance) && !instance.metadata.deletionTimestamp
        ? reportQueued(instance, ahead, deps)
        : Promise.resolve(),
    );
  }

  /**
   * A status write made outside a reconcile (the instance waits for a worker, or for a retry): one at a time per
   * instance, and the instance's next reconcile starts only after it, so it never lands over what that reconcile wrote.
   */
  private acknowledge(
    key: string,
    write: (instance: Instance, deps: InstanceReconcileDeps) => Promise<void>,
  ): void {
    const found = this.find(key);
    const instance = found?.kind.deps.get(found.namespace, found.name);
    if (!found || !instance || this.acknowledgements.has(key)) return;
    const written = write(instance, found.kind.deps)
      .catch((err: unknown) => {
        this.options.log.warn(
          { err, instance: key },
          "could not report what the instance waits for",
        );
      })
      .finally(() => this.acknowledgements.delete(key));
    this.acknowledgements.set(key, written);
  }

  /**
   * A composition's new spec, newly registered chart or new list of instances its compatibility gate holds concerns
   * every one of its instances (not its progress).
   */
  private wakeInstancesOf(rc: ResourceComposition): void {
    const rcKey = objectKey(rc);
    const version = wakeVersion(rc);
    if (this.seen.get(rcKey) === version) return;
    this.seen.set(rcKey, version);
    for (const entry of this.kinds.values())
      if (entry.rcKey === rcKey) for (const o of entry.cache.list()) this.enqueue(entry, o);
  }

  /** A kind whose composition is gone is not served any more: stop watching it. */
  private forgetRemovedKinds(): void {
    const present = new Set(this.options.compositions.list().map(objectKey));
    for (const [gvrKey, entry] of this.kinds) {
      if (present.has(entry.rcKey)) continue;
      this.kinds.delete(gvrKey);
      this.seen.delete(entry.rcKey);
      void entry.cache.stop();
      this.options.log.info(
        { resource: gvrKey },
        "stopped watching instances: composition removed",
      );
    }
  }

  private watchAll(changed?: ResourceComposition): void {
    if (changed) this.wakeInstancesOf(changed);
    this.forgetRemovedKinds();
    for (const rc of this.options.compositions.list()) {
      this.watchKind(rc).catch((err: unknown) => {
        this.options.log.warn(
          { err, kind: rc.spec.newResource.resource.kind },
          "could not watch instances; retrying on the next change",
        );
      });
    }
  }
}

/** Starts the instance controller (main.ts). */
export function startInstanceController(
  options: InstanceControllerOptions,
): Promise<InstanceController> {
  return InstanceController.start(options);
}
