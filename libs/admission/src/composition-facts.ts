import {
  ApiextensionsV1Api,
  AuthorizationV1Api,
  CoreV1Api,
  StorageV1Api,
  type KubeConfig,
  type V1CustomResourceDefinition,
  type V1Node,
  type V1StorageClass,
} from "@kubernetes/client-node";
import { parseQuantity } from "@kubeplus/api";
import {
  REGISTERED_BY_LABEL,
  type LintContext,
  type RbacRuleSet,
  type StorageClassInfo,
} from "@kubeplus/charts";
import { kubeRequest, startCache } from "@kubeplus/kube";
import type { CompositionDeps, ServedResource, UserInfo } from "./validate-composition.js";

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

function getJson(kc: KubeConfig, path: string, accept: string): Promise<unknown> {
  return kubeRequest(kc, "GET", path, { accept, timeoutMs: 5_000 });
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

/** What validating a composition reads from the cluster, kept current by watches; plus the node names. */
export interface CompositionFacts extends CompositionDeps {
  nodeNames(): string[];
  stop(): Promise<void>;
}

export interface CompositionFactsOptions {
  readonly kc: KubeConfig;
  readonly render: CompositionDeps["render"];
  readonly onWatchError: (err: unknown) => void;
}

/** Starts the watches and discovery that `validateComposition` needs; rebuilt from the cluster on every start. */
export async function startCompositionFacts(
  options: CompositionFactsOptions,
): Promise<CompositionFacts> {
  const { kc, onWatchError } = options;
  const core = kc.makeApiClient(CoreV1Api);
  const ext = kc.makeApiClient(ApiextensionsV1Api);
  const storage = kc.makeApiClient(StorageV1Api);
  const authz = kc.makeApiClient(AuthorizationV1Api);
  const common = { kc, onError: onWatchError };
  const [nodes, crds, storageClasses] = await Promise.all([
    startCache<V1Node>({ ...common, path: "/api/v1/nodes", list: () => core.listNode() }),
    startCache<V1CustomResourceDefinition>({
      ...common,
      path: "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
      labelSelector: REGISTERED_BY_LABEL,
      list: () => ext.listCustomResourceDefinition({ labelSelector: REGISTERED_BY_LABEL }),
    }),
    startCache<V1StorageClass>({
      ...common,
      path: "/apis/storage.k8s.io/v1/storageclasses",
      list: () => storage.listStorageClass(),
    }),
  ]);

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
    // No creator recorded (the composition was created while crd-hook was down): nobody to check against. Each
    // instance's helm run, as its namespace's chart identity, is held to the apiserver's own escalation check.
    if (!user.username && (user.groups ?? []).length === 0) return [];
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
    nodeNames: () =>
      nodes
        .list()
        .map((n) => n.metadata?.name ?? "")
        .sort(),
    stop: async () => {
      await Promise.all([nodes.stop(), crds.stop(), storageClasses.stop()]);
    },
  };
}
