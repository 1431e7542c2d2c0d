import { request as httpsRequest, type RequestOptions } from "node:https";
import {
  ApiextensionsV1Api,
  AuthorizationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  StorageV1Api,
  type KubeConfig,
  type KubernetesObject,
  type V1ConfigMap,
  type V1CustomResourceDefinition,
  type V1Namespace,
  type V1Node,
  type V1StorageClass,
} from "@kubernetes/client-node";
import { parseQuantity, PlatformKinds, type ResourceComposition } from "@kubeplus/api";
import {
  REGISTERED_BY_LABEL,
  type LintContext,
  type RbacRuleSet,
  type StorageClassInfo,
} from "@kubeplus/charts";
import { startCache, type WatchedCache } from "@kubeplus/kube";
import type { AdmitDeps } from "../admission/admit.js";
import type { License, NamespaceInfo } from "../admission/validate-instance.js";
import type { ServedResource, UserInfo } from "../admission/validate-composition.js";

interface DiscoveryResource {
  resource: string;
  scope: "Namespaced" | "Cluster";
  responseKind?: { kind: string };
}
interface DiscoveryList {
  items?: {
    metadata?: { name?: string };
    versions?: { version: string; resources?: DiscoveryResource[] }[];
  }[];
}

const DISCOVERY_ACCEPT =
  "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;q=0.9";
const DISCOVERY_TTL_MS = 2_000;

async function getJson(kc: KubeConfig, path: string, accept: string): Promise<unknown> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error("the kubeconfig has no current cluster");
  const url = new URL(path, cluster.server);
  const options: RequestOptions = { method: "GET", headers: { accept } };
  await kc.applyToHTTPSOptions(options);
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, options, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const body = Buffer.concat(chunks).toString();
        if ((res.statusCode ?? 500) >= 400)
          reject(new Error(`GET ${path}: HTTP ${String(res.statusCode)} ${body.slice(0, 200)}`));
        else resolve(JSON.parse(body) as unknown);
      });
    });
    req.on("error", reject);
    req.setTimeout(5_000, () => req.destroy(new Error(`GET ${path} timed out`)));
    req.end();
  });
}

function flattenDiscovery(list: DiscoveryList): (ServedResource & { namespaced: boolean })[] {
  return (list.items ?? []).flatMap((group) =>
    (group.versions ?? []).flatMap((version) =>
      (version.resources ?? [])
        .filter((r) => r.responseKind?.kind && !r.resource.includes("/"))
        .map((r) => ({
          group: group.metadata?.name ?? "",
          version: version.version,
          kind: r.responseKind?.kind ?? "",
          plural: r.resource,
          namespaced: r.scope === "Namespaced",
        })),
    ),
  );
}

function groupOf(apiVersion: string): string {
  return apiVersion.includes("/") ? (apiVersion.split("/")[0] ?? "") : "";
}

/** Each (group, resource, verb, name) a chart's rules grant, as SubjectAccessReview attributes. */
function ruleAttributes(
  rule: Record<string, unknown>,
): { group: string; resource: string; verb: string; name?: string; url?: string }[] {
  const list = (k: string): string[] =>
    Array.isArray(rule[k]) ? (rule[k] as unknown[]).map(String) : [];
  const verbs = list("verbs");
  const urls = list("nonResourceURLs");
  if (urls.length > 0)
    return urls.flatMap((url) => verbs.map((verb) => ({ group: "", resource: "", verb, url })));
  const names = list("resourceNames");
  return list("apiGroups").flatMap((group) =>
    list("resources").flatMap((resource) =>
      verbs.flatMap((verb) =>
        names.length > 0
          ? names.map((name) => ({ group, resource, verb, name }))
          : [{ group, resource, verb }],
      ),
    ),
  );
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
 * Everything admission reads, rebuilt from the cluster at start (compositions, namespaces, nodes, generated CRDs,
 * licenses, storage classes) and kept current by watches: no state of its own survives a restart, none is needed.
 */
export async function startClusterState(options: ClusterStateOptions): Promise<ClusterState> {
  const { kc, namespace, onWatchError } = options;
  const core = kc.makeApiClient(CoreV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const ext = kc.makeApiClient(ApiextensionsV1Api);
  const storage = kc.makeApiClient(StorageV1Api);
  const authz = kc.makeApiClient(AuthorizationV1Api);
  const rcKind = PlatformKinds.ResourceComposition;
  const common = { kc, onError: onWatchError };

  const [compositions, namespaces, nodes, crds, configMaps, storageClasses] = await Promise.all([
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
    startCache<V1Node>({ ...common, path: "/api/v1/nodes", list: () => core.listNode() }),
    startCache<V1CustomResourceDefinition>({
      ...common,
      path: "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
      labelSelector: REGISTERED_BY_LABEL,
      list: () => ext.listCustomResourceDefinition({ labelSelector: REGISTERED_BY_LABEL }),
    }),
    startCache<V1ConfigMap>({
      ...common,
      path: `/api/v1/namespaces/${namespace}/configmaps`,
      list: () => core.listNamespacedConfigMap({ namespace }),
    }),
    startCache<V1StorageClass>({
      ...common,
      path: "/apis/storage.k8s.io/v1/storageclasses",
      list: () => storage.listStorageClass(),
    }),
  ]);
  const caches: WatchedCache<KubernetesObject>[] = [
    compositions,
    namespaces,
    nodes,
    crds,
    configMaps,
    storageClasses,
  ];

  let discovery:
    { at: number; resources: (ServedResource & { namespaced: boolean })[] } | undefined;
  const discover = async (): Promise<(ServedResource & { namespaced: boolean })[]> => {
    if (discovery && Date.now() - discovery.at < DISCOVERY_TTL_MS) return discovery.resources;
    const [coreList, groups] = await Promise.all([
      getJson(kc, "/api", DISCOVERY_ACCEPT),
      getJson(kc, "/apis", DISCOVERY_ACCEPT),
    ]);
    const resources = [
      ...flattenDiscovery(coreList as DiscoveryList),
      ...flattenDiscovery(groups as DiscoveryList),
    ];
    discovery = { at: Date.now(), resources };
    return resources;
  };
  await discover();

  const storageInfo = (): Map<string, StorageClassInfo> =>
    new Map(
      storageClasses.list().map((sc) => [
        sc.metadata?.name ?? "",
        {
          reclaimPolicy: sc.reclaimPolicy ?? "Delete",
          isDefault:
            sc.metadata?.annotations?.["storageclass.kubernetes.io/is-default-class"] === "true",
        },
      ]),
    );

  const lintContext = (allow: ReadonlySet<string>): LintContext => ({
    allow,
    storageClasses: storageInfo(),
    isNamespaced: (apiVersion, kind) =>
      discovery?.resources.find((r) => r.kind === kind && r.group === groupOf(apiVersion))
        ?.namespaced,
  });

  const missingPermissions = async (
    rbac: readonly RbacRuleSet[],
    user: UserInfo,
    ns: string,
  ): Promise<string[]> => {
    const missing = new Set<string>();
    const checks = rbac.flatMap((set) =>
      set.rules.flatMap(ruleAttributes).map(async (a) => {
        const clusterWide = set.object.startsWith("ClusterRole/");
        const review = await authz.createSubjectAccessReview({
          body: {
            spec: {
              ...(user.username ? { user: user.username } : {}),
              ...(user.groups ? { groups: user.groups } : {}),
              ...(a.url
                ? { nonResourceAttributes: { path: a.url, verb: a.verb } }
                : {
                    resourceAttributes: {
                      group: a.group,
                      resource: a.resource,
                      verb: a.verb,
                      ...(a.name ? { name: a.name } : {}),
                      ...(clusterWide ? {} : { namespace: ns }),
                    },
                  }),
            },
          },
        });
        if (!review.status?.allowed) {
          const what = a.url
            ? `${a.verb} ${a.url}`
            : `${a.verb} ${a.resource}${a.group ? `.${a.group}` : ""}${a.name ? `/${a.name}` : ""}`;
          missing.add(`${what} (${set.object})`);
        }
      }),
    );
    await Promise.all(checks);
    return [...missing].sort();
  };

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
    servedResources: discover,
    crdOwner: (plural, group) =>
      crds.get(`${plural}.${group}`)?.metadata?.annotations?.["kubeplus.dev/composition"],
    render: options.render,
    lintContext,
    missingPermissions,
    allocatable: () =>
      nodes.list().reduce(
        (sum, n) => ({
          cpu: sum.cpu + (parseQuantity(n.status?.allocatable?.cpu ?? "0") ?? 0),
          memory: sum.memory + (parseQuantity(n.status?.allocatable?.memory ?? "0") ?? 0),
        }),
        { cpu: 0, memory: 0 },
      ),
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
    nodeNames: () =>
      nodes
        .list()
        .map((n) => n.metadata?.name ?? "")
        .sort(),
    license: licenseFor,
    countInstances: async (rc) => {
      const r = rc.spec.newResource.resource;
      const list = (await custom.listClusterCustomObject({
        group: r.group,
        version: r.version,
        plural: r.plural,
      })) as { items?: unknown[] };
      return list.items?.length ?? 0;
    },
    now: options.now ?? (() => new Date()),
    generatedGroups: () => [
      ...new Set(compositions.list().map((rc) => rc.spec.newResource.resource.group)),
    ],
    onCompositionsChanged: (fn) => compositions.onChange(() => fn()),
    stop: async () => {
      await Promise.all(caches.map((c) => c.stop()));
    },
  };
}
