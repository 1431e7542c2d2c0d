import { CustomObjectsApi, type KubeConfig, type KubernetesObject } from "@kubernetes/client-node";
import {
  ConditionType,
  findCondition,
  PlatformKinds,
  setCondition,
  type Condition,
  type ResourceComposition,
  type ResourceMonitor,
  type ResourcePolicy,
} from "@kubeplus/api";
import { patchStatus, startCache, type WatchedCache } from "@kubeplus/kube";
import type { Logger, ServiceMetrics } from "@kubeplus/runtime";
import { controllerMetrics, WorkQueue } from "./work-queue.js";

/** Reasons of a ResourcePolicy's or ResourceMonitor's Ready condition. */
export const PolicyReason = {
  Applied: "Applied",
  CompositionNotReady: "CompositionNotReady",
  NotEmbedded: "NotEmbedded",
  KindNotRegistered: "KindNotRegistered",
} as const;

type PolicyObject = ResourcePolicy | ResourceMonitor;
type Which = "ResourcePolicy" | "ResourceMonitor";

export interface PolicyVerdict {
  readonly status: "True" | "False";
  readonly reason: string;
  readonly message: string;
}

const EMBEDDED_FIELD: Record<Which, string> = {
  ResourcePolicy: "spec.respolicy",
  ResourceMonitor: "spec.resmonitor",
};

const USE: Record<Which, string> = {
  ResourcePolicy: "its pod policy and quota apply to every",
  ResourceMonitor: "the metrics-collector meters every",
};

/** The verdict for an object its composition created (and owns). */
function ownedVerdict(which: Which, rc: ResourceComposition): PolicyVerdict {
  const name = rc.metadata.name ?? "";
  const kind = rc.spec.newResource.resource.kind;
  const ready = findCondition(rc.status?.conditions, ConditionType.Ready);
  if (ready?.status !== "True")
    return {
      status: "False",
      reason: PolicyReason.CompositionNotReady,
      message: `ResourceComposition ${name} is not Ready (${ready?.reason ?? "not reconciled yet"}): ${kind} instances cannot be created until it is; see kubectl describe resourcecomposition ${name}`,
    };
  return {
    status: "True",
    reason: PolicyReason.Applied,
    message: `from ResourceComposition ${name}: ${USE[which]} ${kind} instance`,
  };
}

/** The verdict for an object made on its own: never applied; says where its spec belongs. */
function standaloneVerdict(
  which: Which,
  object: PolicyObject,
  compositions: readonly ResourceComposition[],
): PolicyVerdict {
  const { kind = "", group = "" } = object.spec.resource ?? {};
  const namespace = object.metadata.namespace ?? "";
  const registering = compositions.find(
    (c) =>
      c.metadata.namespace === namespace &&
      c.spec.newResource.resource.kind === kind &&
      (!group || c.spec.newResource.resource.group === group),
  );
  if (registering)
    return {
      status: "False",
      reason: PolicyReason.NotEmbedded,
      message: `not applied: KubePlus uses the ${which} embedded in ResourceComposition ${registering.metadata.name ?? ""} (${EMBEDDED_FIELD[which]}); move this spec there and delete this object`,
    };
  const inGroup = group ? ` in group ${group}` : "";
  return {
    status: "False",
    reason: PolicyReason.KindNotRegistered,
    message: `no ResourceComposition in namespace ${namespace} registers kind '${kind}'${inGroup}; fix spec.resource, or embed this spec in the composition's ${EMBEDDED_FIELD[which]}`,
  };
}

/**
 * What a ResourcePolicy or ResourceMonitor's Ready condition says. KubePlus applies the objects embedded in a
 * ResourceComposition (they are created from it and owned by it); one created on its own is reported as not applied,
 * with what to do instead.
 */
export function decidePolicyStatus(
  which: Which,
  object: PolicyObject,
  compositions: readonly ResourceComposition[],
): PolicyVerdict {
  const owner = object.metadata.ownerReferences?.find(
    (o) => o.kind === PlatformKinds.ResourceComposition.kind,
  );
  const rc = owner && compositions.find((c) => c.metadata.uid === owner.uid);
  return rc ? ownedVerdict(which, rc) : standaloneVerdict(which, object, compositions);
}

/** The status to write, or undefined when the object already says it. */
export function policyStatus(
  object: PolicyObject,
  verdict: PolicyVerdict,
  now: Date,
): { observedGeneration: number; conditions: Condition[] } | undefined {
  const generation = object.metadata.generation ?? 0;
  const current = findCondition(object.status?.conditions, ConditionType.Ready);
  if (
    object.status?.observedGeneration === generation &&
    current?.status === verdict.status &&
    current.reason === verdict.reason &&
    current.message === verdict.message
  )
    return undefined;
  return {
    observedGeneration: generation,
    conditions: setCondition(
      object.status?.conditions,
      { type: ConditionType.Ready, ...verdict, observedGeneration: generation },
      now,
    ),
  };
}

export interface PolicyStatusController {
  /** A composition changed: its namespace's policies and monitors are judged again. */
  compositionChanged(namespace: string): void;
  stop(): Promise<void>;
}

/** Keeps the Ready condition of every ResourcePolicy and ResourceMonitor current (watches; level-based). */
export async function startPolicyStatusController(options: {
  readonly kc: KubeConfig;
  readonly log: Logger;
  readonly compositions: WatchedCache<ResourceComposition & KubernetesObject>;
  readonly metrics?: ServiceMetrics;
}): Promise<PolicyStatusController> {
  const { kc, log } = options;
  const custom = kc.makeApiClient(CustomObjectsApi);
  const onError = (err: unknown): void => {
    log.warn({ err }, "watch failed; restarting it");
  };
  const kinds = [PlatformKinds.ResourcePolicy, PlatformKinds.ResourceMonitor] as const;
  const caches = await Promise.all(
    kinds.map((k) =>
      startCache<PolicyObject & KubernetesObject>({
        kc,
        onError,
        path: `/apis/${k.group}/${k.version}/${k.plural}`,
        list: () =>
          custom.listClusterCustomObject({
            group: k.group,
            version: k.version,
            plural: k.plural,
          }) as never,
      }),
    ),
  );
  const queue = new WorkQueue({
    concurrency: 2,
    metrics: controllerMetrics(options.metrics, "policystatus", 2),
    reconcile: async (key) => {
      const [index = "0", namespace = "", name = ""] = key.split("/");
      const k = kinds[Number(index)] ?? kinds[0];
      const object = caches[Number(index)]?.get(name, namespace);
      if (!object || object.metadata.deletionTimestamp) return {};
      const verdict = decidePolicyStatus(k.kind, object, options.compositions.list());
      const status = policyStatus(object, verdict, new Date());
      if (status)
        await patchStatus(
          custom,
          { group: k.group, version: k.version, plural: k.plural, namespace, name },
          status,
        );
      return {};
    },
    onError: (key, err, retryInMs) => {
      log.warn({ err, name: key, retryInMs }, "policy status not written; retrying");
    },
  });
  caches.forEach((cache, index) => {
    const add = (o: PolicyObject): void => {
      queue.add(`${String(index)}/${o.metadata.namespace ?? ""}/${o.metadata.name ?? ""}`);
    };
    cache.onChange(add);
    cache.list().forEach(add);
  });
  return {
    compositionChanged: (namespace) => {
      caches.forEach((cache, index) => {
        for (const o of cache.list(namespace))
          queue.add(`${String(index)}/${namespace}/${o.metadata.name ?? ""}`);
      });
    },
    stop: async () => {
      queue.stop();
      await Promise.all(caches.map((c) => c.stop()));
    },
  };
}
