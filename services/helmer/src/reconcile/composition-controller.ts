import {
  ApiextensionsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  type KubernetesObject,
} from "@kubernetes/client-node";
import { startCompositionFacts, type CompositionFacts } from "@kubeplus/admission";
import {
  ConditionType,
  findCondition,
  isConditionTrue,
  PlatformKinds,
  type Instance,
  type ResourceComposition,
  type ResourceCompositionStatus,
} from "@kubeplus/api";
import { subscribe } from "@kubeplus/contracts";
import {
  Applier,
  asReconcileError,
  isNotFound,
  kubeRequest,
  patchStatus,
  startCache,
  type WatchedCache,
} from "@kubeplus/kube";
import type { Logger, ServiceMetrics } from "@kubeplus/runtime";
import type { Bus } from "../bus.js";
import type { ChartStore } from "../charts/chart-store.js";
import { handleRender } from "../render/handle-render.js";
import { fleetProgress, membersOf } from "./fleet.js";
import { startPolicyStatusController } from "./policy-status.js";
import type { FleetSlots } from "./fleet-slots.js";
import {
  COMPOSITION_LABEL,
  FIELD_MANAGER,
  reconcileComposition,
  reconcileFleet,
  reportTerminal,
  type CompositionReconcileDeps,
  type ListedInstance,
} from "./reconcile-composition.js";
import { recordEvent } from "./kube-events.js";
import { logReadyChange, objectFields } from "./state-log.js";
import { StatusWriter, type Written } from "./status-writer.js";
import { WakeFilter } from "./wake.js";
import { controllerMetrics, WorkQueue } from "./work-queue.js";

export interface ControllerOptions {
  readonly kc: KubeConfig;
  readonly store: ChartStore;
  readonly bus: Bus;
  readonly log: Logger;
  readonly concurrency: number;
  readonly slots: FleetSlots;
  /** The service's metrics: this controller's queue and reconciles, and its chart fetches. */
  readonly metrics?: ServiceMetrics;
  /** The watched instances of a composition (`namespace/name`); late-bound: the instance controller starts later. */
  readonly instancesOf: (rcKey: string) => readonly Instance[] | undefined;
}

const RC = PlatformKinds.ResourceComposition;
const FLEET_PREFIX = "fleet|";
const FLEET_COALESCE_MS = 1_000;

/** Watches compositions (NATS admission events only wake it sooner) and reconciles each in a keyed work queue. */
export interface CompositionController {
  readonly queue: WorkQueue;
  readonly compositions: WatchedCache<ResourceComposition & KubernetesObject>;
  /** Storage classes, discovery and permissions, as the admission checks see them. */
  readonly facts: CompositionFacts;
  /** An instance of the composition changed: recount the fleet's progress. */
  fleetChanged(rcKey: string): void;
  stop(): Promise<void>;
}

interface Listed {
  items?: {
    metadata?: { namespace?: string; name?: string; deletionTimestamp?: unknown };
    spec?: Record<string, unknown>;
  }[];
}

/** An instance of the composition's kind as the API lists it: where it is, whether it goes, its values. */
async function listInstances(
  custom: CustomObjectsApi,
  rc: ResourceComposition,
): Promise<ListedInstance[]> {
  const { group, version, plural } = rc.spec.newResource.resource;
  try {
    const list = (await custom.listClusterCustomObject({ group, version, plural })) as Listed;
    return (list.items ?? []).map((i) => ({
      namespace: i.metadata?.namespace ?? "",
      name: i.metadata?.name ?? "",
      deleting: !!i.metadata?.deletionTimestamp,
      spec: i.spec ?? {},
    }));
  } catch (err) {
    if (isNotFound(err)) return [];
    throw err;
  }
}

/** Deletes the generated CRD and the chart's CRDs (labelled with the composition); returns how many remain. */
async function deleteCrds(ext: ApiextensionsV1Api, rc: ResourceComposition): Promise<number> {
  const { group, plural } = rc.spec.newResource.resource;
  const chartCrds = await ext.listCustomResourceDefinition({
    labelSelector: `${COMPOSITION_LABEL}=${rc.metadata.name ?? ""}`,
  });
  const names = new Set([
    `${plural}.${group}`,
    ...chartCrds.items.map((c) => c.metadata?.name ?? ""),
  ]);
  let remaining = 0;
  for (const name of names) {
    try {
      await ext.deleteCustomResourceDefinition({ name });
      remaining += 1;
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
  return remaining;
}

export async function startCompositionController(
  options: ControllerOptions,
): Promise<CompositionController> {
  const { kc, store, bus, log } = options;
  const custom = kc.makeApiClient(CustomObjectsApi);
  const ext = kc.makeApiClient(ApiextensionsV1Api);
  const core = kc.makeApiClient(CoreV1Api);
  const applier = new Applier(kc, FIELD_MANAGER);
  const onWatchError = (err: unknown): void => {
    log.warn({ err }, "watch failed; restarting it");
  };
  const [facts, compositions] = await Promise.all([
    startCompositionFacts({
      kc,
      render: (chartURL, chartName) => handleRender(store, { version: 1, chartURL, chartName }),
      onWatchError,
    }),
    startCache<ResourceComposition & KubernetesObject>({
      kc,
      onError: onWatchError,
      path: `/apis/${RC.group}/${RC.version}/${RC.plural}`,
      list: () =>
        custom.listClusterCustomObject({
          group: RC.group,
          version: RC.version,
          plural: RC.plural,
        }) as never,
    }),
  ]);

  const policies = await startPolicyStatusController({
    kc,
    log,
    compositions,
    ...(options.metrics ? { metrics: options.metrics } : {}),
  });

  const statuses = new StatusWriter<ResourceCompositionStatus, ResourceComposition>(
    async (rc, fields) =>
      (await patchStatus(
        custom,
        {
          group: RC.group,
          version: RC.version,
          plural: RC.plural,
          namespace: rc.metadata.namespace ?? "",
          name: rc.metadata.name ?? "",
        },
        fields,
      )) as Written<ResourceCompositionStatus>,
  );
  const writeStatus = async (
    rc: ResourceComposition,
    fields: Partial<ResourceCompositionStatus>,
  ): Promise<void> => {
    // Read-your-writes: against this controller's own last write, not the cache's copy.
    const before = statuses.current(rc).status?.conditions;
    await statuses.write(rc, fields);
    if (fields.conditions)
      logReadyChange(
        log.child(objectFields(rc)),
        "composition",
        findCondition(before, ConditionType.Ready),
        findCondition(fields.conditions, ConditionType.Ready),
      );
  };
  // The chart each composition last registered (for its fleet counts before the cache shows it).
  const registered = new Map<string, { name: string; version: string; digest: string }>();

  const event = (
    rc: ResourceComposition,
    type: "Normal" | "Warning",
    reason: string,
    message: string,
  ): Promise<void> => recordEvent(core, rc, { type, reason, message });

  const depsFor = (rcKey: string): CompositionReconcileDeps => ({
    // Read-your-writes: the cached composition, with the status of our own write the cache has not shown yet.
    get: (namespace, name) => statuses.current(compositions.get(name, namespace)),
    chart: (url, name) => store.chart(url, name),
    checks: facts,
    apply: async (object) => {
      await applier.apply(object);
    },
    crdEstablished: async (name) => {
      const crd = await ext.readCustomResourceDefinition({ name });
      return isConditionTrue(crd.status?.conditions, "Established");
    },
    writeStatus,
    event,
    setFinalizers: async (rc, finalizers) => {
      await kubeRequest(
        kc,
        "PATCH",
        `/apis/${RC.group}/${RC.version}/namespaces/${rc.metadata.namespace ?? ""}/${RC.plural}/${rc.metadata.name ?? ""}`,
        {
          body: { metadata: { finalizers, resourceVersion: rc.metadata.resourceVersion } },
          contentType: "application/merge-patch+json",
        },
      );
    },
    listInstances: (rc) => listInstances(custom, rc),
    deleteInstance: async (rc, namespace, name) => {
      const { group, version, plural } = rc.spec.newResource.resource;
      try {
        await custom.deleteNamespacedCustomObject({ group, version, plural, namespace, name });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    },
    deleteCrds: (rc) => deleteCrds(ext, rc),
    fleet: (rc, chart) => {
      const instances = options.instancesOf(rcKey);
      if (!instances) return undefined;
      return fleetProgress(rc, chart, instances, options.slots.inFlight(rcKey));
    },
    members: (rc, chart) => {
      const instances = options.instancesOf(rcKey);
      return instances ? membersOf(rc, chart, instances) : undefined;
    },
    registered: (rc, chart) => {
      registered.set(rcKey, chart);
      queue.add(`${FLEET_PREFIX}${rcKey}`);
    },
    registeredChart: (namespace, name) => registered.get(`${namespace}/${name}`),
    emitProgress: (progress) => {
      try {
        bus.publish("FleetUpgradeProgress", progress);
      } catch (err) {
        log.warn({ err }, "fleet progress not published");
      }
    },
    now: () => new Date(),
  });

  /** Keys: `namespace/name` (the whole reconcile) or `fleet|namespace/name` (fleet progress only). */
  const queue = new WorkQueue({
    concurrency: options.concurrency,
    metrics: controllerMetrics(options.metrics, "resourcecomposition", options.concurrency),
    reconcile: (key) => {
      const started = Date.now();
      const [fleetKey] = key.startsWith(FLEET_PREFIX) ? [key.slice(FLEET_PREFIX.length)] : [];
      const run = fleetKey
        ? reconcileFleet(fleetKey, depsFor(fleetKey))
        : reconcileComposition(key, depsFor(key));
      return run
        .catch((err: unknown) => {
          throw asReconcileError(err);
        })
        .finally(() => {
          const [namespace = "", name = ""] = (fleetKey ?? key).split("/");
          log.debug(
            { kind: "ResourceComposition", namespace, name, durationMs: Date.now() - started },
            fleetKey ? "fleet progress reconciled" : "composition reconciled",
          );
        });
    },
    onError: (key, err, retryInMs) => {
      log.warn({ err, name: key, retryInMs }, "composition reconcile failed; retrying");
    },
    onTerminal: async (key, err) => {
      log.warn({ err, name: key }, "composition reconcile failed; not retrying until it changes");
      const rcKey = key.startsWith(FLEET_PREFIX) ? key.slice(FLEET_PREFIX.length) : key;
      const [namespace = "", name = ""] = rcKey.split("/");
      const rc = statuses.current(compositions.get(name, namespace));
      if (rc) await reportTerminal(rc, err, { writeStatus, now: () => new Date() });
    },
    onRequeue: (key, err) => {
      log.debug({ err, name: key, retryInMs: err.afterMs }, "composition reconcile requeued");
    },
  });

  const keyOf = (o: { metadata?: { namespace?: string; name?: string } }): string =>
    `${o.metadata?.namespace ?? ""}/${o.metadata?.name ?? ""}`;
  const wake = new WakeFilter();
  compositions.onChange((rc, event) => {
    if (event === "delete") registered.delete(keyOf(rc));
    // Status-only changes (fleet counts, our own reports) concern the policies' status, not a registration.
    if (wake.wakes(keyOf(rc), rc.metadata, event)) queue.add(keyOf(rc));
    policies.compositionChanged(rc.metadata.namespace ?? "");
  });
  for (const rc of compositions.list()) queue.add(keyOf(rc));
  const subs: { unsubscribe(): void }[] = [];
  const fleetTimers = new Map<string, NodeJS.Timeout>();
  bus.whenConnected((nc) => {
    subs.push(
      subscribe(
        nc,
        "CompositionAdmitted",
        (e) => {
          queue.add(`${e.namespace}/${e.name}`);
        },
        (err) => {
          log.warn({ err }, "invalid composition event ignored");
        },
      ),
    );
  });
  return {
    queue,
    compositions,
    facts,
    fleetChanged: (rcKey) => {
      // Coalesced: while a fleet moves, instances change many times a second; one recount (and at most one status
      // write) per FLEET_COALESCE_MS is enough for a progress report.
      if (fleetTimers.has(rcKey)) return;
      fleetTimers.set(
        rcKey,
        setTimeout(() => {
          fleetTimers.delete(rcKey);
          queue.add(`${FLEET_PREFIX}${rcKey}`);
        }, FLEET_COALESCE_MS),
      );
    },
    stop: async () => {
      registered.clear();
      for (const timer of fleetTimers.values()) clearTimeout(timer);
      fleetTimers.clear();
      subs.forEach((sub) => {
        sub.unsubscribe();
      });
      queue.stop();
      await Promise.all([facts.stop(), compositions.stop(), policies.stop()]);
    },
  };
}
