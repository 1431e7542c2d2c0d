import {
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  type KubernetesObject,
  type V1ConfigMap,
  type V1Namespace,
} from "@kubernetes/client-node";
import { startCompositionFacts } from "@kubeplus/admission";
import { PlatformKinds, type ResourceComposition } from "@kubeplus/api";
import { isNotFound, startCache } from "@kubeplus/kube";
import type { AdmitDeps } from "../admission/admit.js";
import type { License, NamespaceInfo } from "../admission/validate-instance.js";

/** Every instance of a composition's kind; none when the kind is not served (yet, or any more). */
async function listInstances(
  custom: CustomObjectsApi,
  rc: ResourceComposition,
): Promise<{ metadata?: { namespace?: string; name?: string } }[]> {
  const r = rc.spec.newResource.resource;
  try {
    const list = (await custom.listClusterCustomObject({
      group: r.group,
      version: r.version,
      plural: r.plural,
    })) as { items?: { metadata?: { namespace?: string; name?: string } }[] };
    return list.items ?? [];
  } catch (err) {
    if (isNotFound(err)) return [];
    throw err;
  }
}

export interface ClusterState extends AdmitDeps {
  /** Groups of the generated kinds of every composition (for the webhook rules). */
  generatedGroups(): string[];
  onCompositionsChanged(fn: () => void): void;
  stop(): Promise<void>;
}

export interface ClusterStateOptions {
  readonly kc: KubeConfig;
  readonly namespace: string;
  readonly render: AdmitDeps["render"];
  readonly onWatchError: (err: unknown) => void;
  readonly now?: () => Date;
}

/**
 * Everything admission reads, rebuilt from the cluster at start (compositions, namespaces, licenses, and the
 * composition facts: nodes, generated CRDs, storage classes, discovery) and kept current by watches: no state of its
 * own survives a restart, none is needed.
 */
export async function startClusterState(options: ClusterStateOptions): Promise<ClusterState> {
  const { kc, namespace, onWatchError } = options;
  const core = kc.makeApiClient(CoreV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const rcKind = PlatformKinds.ResourceComposition;
  const common = { kc, onError: onWatchError };
  const [facts, compositions, namespaces, configMaps] = await Promise.all([
    startCompositionFacts({ kc, render: options.render, onWatchError }),
    startCache<ResourceComposition & KubernetesObject>({
      ...common,
      path: `/apis/${rcKind.group}/${rcKind.version}/${rcKind.plural}`,
      list: () =>
        custom.listClusterCustomObject({
          group: rcKind.group,
          version: rcKind.version,
          plural: rcKind.plural,
        }) as never,
    }),
    startCache<V1Namespace>({
      ...common,
      path: "/api/v1/namespaces",
      list: () => core.listNamespace(),
    }),
    startCache<V1ConfigMap>({
      ...common,
      path: `/api/v1/namespaces/${namespace}/configmaps`,
      list: () => core.listNamespacedConfigMap({ namespace }),
    }),
  ]);

  const licenseFor = (kind: string): License | undefined => {
    const cm = configMaps.get(`${kind.toLowerCase()}-license`, namespace);
    if (!cm) return undefined;
    const a = cm.metadata?.annotations ?? {};
    const allowed = a.allowed_instances !== undefined ? Number(a.allowed_instances) : undefined;
    return {
      ...(allowed !== undefined && Number.isFinite(allowed) ? { allowedInstances: allowed } : {}),
      ...(a.expiry ? { expiry: a.expiry } : {}),
    };
  };

  return {
    ...facts,
    compositionFor: (group, kind) =>
      compositions
        .list()
        .find(
          (rc) =>
            rc.spec.newResource.resource.group === group &&
            rc.spec.newResource.resource.kind === kind,
        ),
    namespace: (name): NamespaceInfo | undefined => {
      const ns = namespaces.get(name);
      return ns
        ? {
            labels: ns.metadata?.labels ?? {},
            ...(ns.status?.phase ? { phase: ns.status.phase } : {}),
          }
        : undefined;
    },
    license: licenseFor,
    countInstances: async (rc) => (await listInstances(custom, rc)).length,
    instanceNames: async (rc) =>
      (await listInstances(custom, rc)).map(
        (i) => `${i.metadata?.namespace ?? ""}/${i.metadata?.name ?? ""}`,
      ),
    now: options.now ?? (() => new Date()),
    generatedGroups: () => [
      ...new Set(compositions.list().map((rc) => rc.spec.newResource.resource.group)),
    ],
    onCompositionsChanged: (fn) => {
      compositions.onChange(() => fn());
    },
    stop: async () => {
      await Promise.all([facts.stop(), compositions.stop(), namespaces.stop(), configMaps.stop()]);
    },
  };
}
