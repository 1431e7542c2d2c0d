import {
  ApiextensionsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  type KubernetesObject,
} from "@kubernetes/client-node";
import type { NatsConnection } from "@nats-io/nats-core";
import { startCompositionFacts } from "@kubeplus/admission";
import {
  PlatformKinds,
  type ResourceComposition,
  type ResourceCompositionStatus,
} from "@kubeplus/api";
import { subscribe } from "@kubeplus/contracts";
import { Applier, patchStatus, startCache, type WatchedCache } from "@kubeplus/kube";
import type { Logger } from "@kubeplus/runtime";
import type { ChartStore } from "../charts/chart-store.js";
import { handleRender } from "../render/handle-render.js";
import { FIELD_MANAGER, reconcileComposition } from "./reconcile-composition.js";
import { WorkQueue } from "./work-queue.js";

export interface ControllerOptions {
  readonly kc: KubeConfig;
  readonly store: ChartStore;
  readonly nc: NatsConnection;
  readonly log: Logger;
  readonly concurrency: number;
}

const RC = PlatformKinds.ResourceComposition;

/** Watches compositions (NATS admission events only wake it sooner) and reconciles each in a keyed work queue. */
export interface CompositionController {
  readonly queue: WorkQueue;
  readonly compositions: WatchedCache<ResourceComposition & KubernetesObject>;
  stop(): Promise<void>;
}

export async function startCompositionController(
  options: ControllerOptions,
): Promise<CompositionController> {
  const { kc, store, nc, log } = options;
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

  const writeStatus = async (
    rc: ResourceComposition,
    status: ResourceCompositionStatus,
  ): Promise<void> => {
    if (JSON.stringify(rc.status ?? {}) === JSON.stringify(status)) return;
    await patchStatus(
      custom,
      {
        group: RC.group,
        version: RC.version,
        plural: RC.plural,
        namespace: rc.metadata.namespace ?? "",
        name: rc.metadata.name ?? "",
      },
      status,
    );
  };

  const event = async (
    rc: ResourceComposition,
    type: "Normal" | "Warning",
    reason: string,
    message: string,
  ): Promise<void> => {
    const now = new Date();
    await core.createNamespacedEvent({
      namespace: rc.metadata.namespace ?? "",
      body: {
        metadata: {
          generateName: `${rc.metadata.name ?? "rc"}.`,
          namespace: rc.metadata.namespace,
        },
        involvedObject: {
          apiVersion: rc.apiVersion,
          kind: rc.kind,
          name: rc.metadata.name,
          namespace: rc.metadata.namespace,
          uid: rc.metadata.uid,
        },
        type,
        reason,
        message: message.slice(0, 1000),
        source: { component: "kubeplus-helmer" },
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      },
    });
  };

  const queue = new WorkQueue({
    concurrency: options.concurrency,
    reconcile: (key) => {
      const started = Date.now();
      return reconcileComposition(key, {
        get: (namespace, name) => compositions.get(name, namespace),
        chart: (url, name) => store.chart(url, name),
        checks: facts,
        apply: async (object) => {
          await applier.apply(object);
        },
        crdEstablished: async (name) => {
          const crd = await ext.readCustomResourceDefinition({ name });
          return (
            crd.status?.conditions?.some((c) => c.type === "Established" && c.status === "True") ??
            false
          );
        },
        writeStatus,
        event,
        now: () => new Date(),
      }).finally(() => {
        log.debug({ name: key, durationMs: Date.now() - started }, "composition reconciled");
      });
    },
    onError: (key, err, retryInMs) => {
      log.warn({ err, name: key, retryInMs }, "composition reconcile failed; retrying");
    },
  });

  const keyOf = (o: { metadata?: { namespace?: string; name?: string } }): string =>
    `${o.metadata?.namespace ?? ""}/${o.metadata?.name ?? ""}`;
  compositions.onChange((rc) => {
    queue.add(keyOf(rc));
  });
  for (const rc of compositions.list()) queue.add(keyOf(rc));
  const sub = subscribe(
    nc,
    "CompositionAdmitted",
    (e) => {
      queue.add(`${e.namespace}/${e.name}`);
    },
    (err) => {
      log.warn({ err }, "invalid composition event ignored");
    },
  );
  return {
    queue,
    compositions,
    stop: async () => {
      sub.unsubscribe();
      queue.stop();
      await Promise.all([facts.stop(), compositions.stop()]);
    },
  };
}
