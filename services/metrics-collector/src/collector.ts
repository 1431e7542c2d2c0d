import { request as httpsRequest, type RequestOptions } from "node:https";
import type { InstanceUsage } from "@kubeplus/contracts";
import { kubeRequest, type ApiAccess } from "@kubeplus/kube/lite";
import {
  addNodeSamples,
  addVolumeSamples,
  appTargets,
  belongsTo,
  carryCounters,
  computeUsage,
  pickAppMetrics,
  type AppEndpoints,
  parsePrometheusText,
  type InstanceFacts,
  type PodFacts,
  type Readings,
} from "@kubeplus/metering";
import { ownsNamespace, releaseTargetOf, type ReleaseTarget } from "./target.js";

interface List<T> {
  items: T[];
}
interface Meta {
  name: string;
  uid?: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: { kind: string; name: string; controller?: boolean }[];
}
interface Composition {
  metadata: Meta;
  spec?: {
    newResource?: {
      resource?: { kind?: string; group?: string; version?: string; plural?: string };
    };
    resmonitor?: {
      spec?: {
        monitorRelationships?: string;
        appEndpoints?: { label?: string; endpoint?: string; metrics?: string[] };
      };
    };
  };
}
interface Instance {
  metadata: Meta;
  status?: { helmrelease?: string; inventory?: { kind: string; name: string }[] };
}
interface Pod {
  metadata: Meta;
  spec?: {
    nodeName?: string;
    containers?: unknown[];
    initContainers?: unknown[];
    volumes?: { persistentVolumeClaim?: { claimName: string } }[];
  };
  status?: { phase?: string; startTime?: string; hostIP?: string };
}
interface Service {
  metadata: Meta;
  spec?: { selector?: Record<string, string>; ports?: { nodePort?: number }[] };
}

/** A generated kind and how its instances are metered, from its ResourceComposition. */
export interface MeteredKind {
  readonly kind: string;
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  readonly monitorRelationships: "owner" | "all";
  /** Application metrics to scrape from the instance's pods (`resmonitor.spec.appEndpoints`). */
  readonly appEndpoints?: AppEndpoints;
}

/** The text exposition format (a bare text/plain is refused with 406 by Prometheus handlers). */
const PROM_ACCEPT = "text/plain;version=0.0.4;q=1,*/*;q=0.1";

/** How kubelets are reached: through the apiserver's node proxy, or directly as metrics-server does. */
export type KubeletAccess =
  | { readonly mode: "proxy" }
  | { readonly mode: "direct"; readonly ca?: string; readonly insecure?: boolean };

interface NodeObject {
  metadata: Meta;
  status?: {
    addresses?: { type: string; address: string }[];
    daemonEndpoints?: { kubeletEndpoint?: { Port?: number } };
  };
}

/**
 * The kubeconfig's credentials for a kubelet: its token (headers) or its client certificate. Its CA, and the agent
 * carrying it, are the apiserver's, not the kubelets'. Taking the headers alone sent a client-certificate identity
 * to real kubelets with no credentials at all (401: "node did not answer"); kwok's kubelets let that pass.
 */
export async function kubeletCredentials(kc: ApiAccess): Promise<RequestOptions> {
  const auth: RequestOptions = { headers: {} };
  await kc.applyToHTTPSOptions(auth);
  // client-node's KubeConfig puts the certificate on the options, our StaticAccess in its agent.
  const identity =
    kc.clientCertificate?.() ??
    (auth.cert && auth.key ? { cert: auth.cert, key: auth.key } : undefined);
  return {
    headers: auth.headers ?? {},
    ...(identity ? { cert: identity.cert, key: identity.key } : {}),
  };
}

async function direct(kc: ApiAccess, url: string, access: KubeletAccess): Promise<string> {
  const auth = await kubeletCredentials(kc);
  const options: RequestOptions = {
    method: "GET",
    ...(auth.cert && auth.key ? { cert: auth.cert, key: auth.key } : {}),
    headers: { ...(auth.headers as Record<string, string>), accept: PROM_ACCEPT },
    timeout: 5_000,
  };
  if (access.mode === "direct") {
    if (access.ca) options.ca = access.ca;
    if (access.insecure) options.rejectUnauthorized = false;
  }
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, options, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        if ((res.statusCode ?? 500) >= 400)
          reject(new Error(`${url}: HTTP ${String(res.statusCode)}`));
        else resolve(Buffer.concat(chunks).toString());
      });
    });
    req.on("timeout", () => req.destroy(new Error(`${url}: timed out`)));
    req.on("error", reject);
    req.end();
  });
}

export interface PassResult {
  readonly usages: InstanceUsage[];
  readonly durationMs: number;
  readonly nodes: number;
  readonly failedNodes: string[];
}

/** Runs `work` over `items`, at most `limit` at a time. */
export async function pool<T, R>(
  items: readonly T[],
  limit: number,
  work: (t: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const runners = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i] as T);
    }
  });
  await Promise.all(runners);
  return results;
}

function ownerOf(p: Pod): PodFacts["owner"] {
  const refs = p.metadata.ownerReferences ?? [];
  const owner = refs.find((o) => o.controller) ?? refs[0];
  return owner ? { kind: owner.kind, name: owner.name } : undefined;
}

/** Fields of a pod's status that are there only once it is scheduled or started. */
function whereAndWhen(p: Pod): { startTime?: string; hostIP?: string } {
  const { startTime, hostIP } = p.status ?? {};
  return { ...(startTime ? { startTime } : {}), ...(hostIP ? { hostIP } : {}) };
}

function podFacts(p: Pod): PodFacts {
  const spec = p.spec ?? {};
  const owner = ownerOf(p);
  return {
    name: p.metadata.name,
    node: spec.nodeName ?? "",
    phase: p.status?.phase ?? "Unknown",
    containers: (spec.containers ?? []).length + (spec.initContainers ?? []).length,
    labels: p.metadata.labels ?? {},
    ...(owner ? { owner } : {}),
    ...whereAndWhen(p),
    claims: (spec.volumes ?? []).flatMap((v) =>
      v.persistentVolumeClaim ? [v.persistentVolumeClaim.claimName] : [],
    ),
  };
}

/**
 * Where the instance's release lives: derived from its namespace and name as the helmer derives it, and, for a
 * namespace KubePlus created for it, only when that namespace's labels name this instance. `status.helmrelease` says
 * only whether a release exists yet: its value is never where the collector reads or writes (whoever could write
 * the status could otherwise point it at another tenant's namespace and records).
 */
function releaseOf(
  kind: string,
  item: Instance,
  namespaceLabels: ReadonlyMap<string, Record<string, string>>,
): ReleaseTarget | undefined {
  // Without a UID (never from the apiserver) there is no namespace to derive.
  if (!item.status?.helmrelease || !item.metadata.uid) return undefined;
  const instance = {
    kind,
    namespace: item.metadata.namespace ?? "",
    name: item.metadata.name,
    uid: item.metadata.uid ?? "",
  };
  const target = releaseTargetOf({ ...instance, namespaceLabels: (ns) => namespaceLabels.get(ns) });
  if (target.create && !ownsNamespace(instance, namespaceLabels.get(target.targetNamespace)))
    return undefined;
  return { targetNamespace: target.targetNamespace, release: target.release };
}

/** The instance's pods as appEndpoints needs them: labels, phase and node address. */
function appPods(
  facts: { pods: readonly PodFacts[] },
  instance: InstanceFacts,
): Parameters<typeof appTargets>[1] {
  return facts.pods
    .filter((p) => belongsTo(p, instance))
    .map((p) => ({
      name: p.name,
      labels: p.labels,
      running: p.phase === "Running",
      hostIP: p.hostIP ?? "",
    }));
}

/** A composition's generated kind and how to meter it; undefined while its resource is incomplete. */
function meteredKind(c: Composition): MeteredKind | undefined {
  const resource = resourceOf(c);
  if (!resource) return undefined;
  const monitor = c.spec?.resmonitor?.spec ?? {};
  const app = appEndpointsOf(monitor.appEndpoints);
  return {
    ...resource,
    monitorRelationships: monitor.monitorRelationships === "all" ? "all" : "owner",
    ...(app ? { appEndpoints: app } : {}),
  };
}

function resourceOf(
  c: Composition,
): { kind: string; group: string; version: string; plural: string } | undefined {
  const { kind, group, version, plural } = c.spec?.newResource?.resource ?? {};
  return kind && group && version && plural ? { kind, group, version, plural } : undefined;
}

function appEndpointsOf(
  app: { label?: string; endpoint?: string; metrics?: string[] } | undefined,
): AppEndpoints | undefined {
  if (!app?.label || !app.metrics?.length) return undefined;
  return { label: app.label, endpoint: app.endpoint ?? "metrics", metrics: app.metrics };
}

/** Application metrics time out quickly: a slow application must not hold the pass back. */
const APP_TIMEOUT_MS = 3_000;

/** Scrapes the application metrics named by appEndpoints from the instance's pods; failures become warnings. */
async function scrapeApp(
  spec: AppEndpoints | undefined,
  pods: Parameters<typeof appTargets>[1],
  services: readonly Service[],
): Promise<{ custom: InstanceUsage["custom"]; warnings: string[] }> {
  if (!spec) return { custom: [], warnings: [] };
  const { targets, warnings } = appTargets(
    spec,
    pods,
    services.map((s) => ({
      name: s.metadata.name,
      labels: s.metadata.labels ?? {},
      nodePorts: (s.spec?.ports ?? []).flatMap((p) => (p.nodePort ? [p.nodePort] : [])),
    })),
  );
  const custom: InstanceUsage["custom"][number][] = [];
  for (const target of targets) {
    try {
      const res = await fetch(target.url, {
        headers: { accept: PROM_ACCEPT },
        signal: AbortSignal.timeout(APP_TIMEOUT_MS),
      });
      if (!res.ok) throw new Error(`HTTP ${String(res.status)}`);
      custom.push(...pickAppMetrics(await res.text(), spec.metrics, target.pod));
    } catch (err) {
      warnings.push(
        `appEndpoints: pod ${target.pod} did not answer at ${target.url} (${err instanceof Error ? err.message : String(err)}); its application metrics are missing`,
      );
    }
  }
  return { custom, warnings };
}

/** Selectors of the release's own Services (from the inventory). */
function selectorsOf(
  services: readonly Service[],
  inventory: readonly { kind: string; name: string }[],
): Record<string, string>[] {
  const names = new Set(inventory.filter((o) => o.kind === "Service").map((o) => o.name));
  return services.flatMap((s) =>
    names.has(s.metadata.name) && s.spec?.selector ? [s.spec.selector] : [],
  );
}

/**
 * The kubelet paths of a node: the resource-metrics path metrics-server honours, and beside it cAdvisor's and the
 * kubelet's own metrics (volume stats).
 */
export function nodePaths(annotations: Record<string, string> | undefined): {
  resource: string;
  cadvisor: string;
  kubelet: string;
} {
  const resource = annotations?.["metrics.k8s.io/resource-metrics-path"] ?? "/metrics/resource";
  const base = resource.endsWith("/metrics/resource")
    ? resource.slice(0, -"/resource".length)
    : "/metrics";
  return { resource, cadvisor: `${base}/cadvisor`, kubelet: base };
}

/**
 * One collection pass over every instance of every generated kind: the cluster says which instances, pods, claims
 * and quotas exist; each node's kubelet (directly, or through the apiserver's node proxy) says what the pods use. Level-based: a
 * pass rebuilds everything from the cluster, keeping only the previous pass's CPU counters (for the rate).
 */
export class Collector {
  private previous?: { readings: Readings; atMs: number };
  private readonly kc: ApiAccess;
  private readonly concurrency: number;

  private readonly access: KubeletAccess;

  constructor(kc: ApiAccess, concurrency: number, access: KubeletAccess = { mode: "direct" }) {
    this.kc = kc;
    this.concurrency = concurrency;
    this.access = access;
  }

  /** One kubelet path of one node: through the apiserver's node proxy, or straight to the kubelet's endpoint. */
  private async nodeText(node: NodeObject, path: string): Promise<string> {
    if (this.access.mode === "proxy")
      return String(
        await kubeRequest(this.kc, "GET", `/api/v1/nodes/${node.metadata.name}/proxy${path}`, {
          accept: PROM_ACCEPT,
          text: true,
          timeoutMs: 5_000,
        }),
      );
    const ip = node.status?.addresses?.find((a) => a.type === "InternalIP")?.address;
    const port = node.status?.daemonEndpoints?.kubeletEndpoint?.Port ?? 10250;
    if (!ip) throw new Error(`node ${node.metadata.name} has no InternalIP`);
    const host = ip.includes(":") ? `[${ip}]` : ip;
    return direct(this.kc, `https://${host}:${String(port)}${path}`, this.access);
  }

  private get<T>(path: string): Promise<T> {
    return kubeRequest(this.kc, "GET", path) as Promise<T>;
  }

  /** Every namespace's labels, once per pass: where each instance's release lives, and who owns it. */
  private async namespaceLabels(): Promise<Map<string, Record<string, string>>> {
    const list = await this.get<List<{ metadata: Meta }>>("/api/v1/namespaces");
    return new Map(list.items.map((n) => [n.metadata.name, n.metadata.labels ?? {}]));
  }

  async kinds(): Promise<MeteredKind[]> {
    const list = await this.get<List<Composition>>(
      "/apis/workflows.kubeplus/v1alpha1/resourcecompositions",
    );
    return list.items.flatMap((c) => {
      const kind = meteredKind(c);
      return kind ? [kind] : [];
    });
  }

  private async instances(kinds: MeteredKind[]): Promise<{ kind: MeteredKind; item: Instance }[]> {
    const lists = await pool(kinds, this.concurrency, async (kind) => {
      const list = await this.get<List<Instance>>(
        `/apis/${kind.group}/${kind.version}/${kind.plural}`,
      ).catch(() => ({ items: [] }));
      return list.items.map((item) => ({ kind, item }));
    });
    return lists.flat();
  }

  private async scrapeNodes(): Promise<{
    readings: Readings;
    volumesUsed: Map<string, number>;
    failed: string[];
    count: number;
  }> {
    const nodes = await this.get<List<NodeObject>>("/api/v1/nodes");
    const readings: Readings = new Map();
    const volumesUsed = new Map<string, number>();
    const failed: string[] = [];
    await pool(nodes.items, this.concurrency, async (node) => {
      const { resource, cadvisor, kubelet } = nodePaths(node.metadata.annotations);
      try {
        let resourceAt = 0;
        const [r, c, k] = await Promise.all([
          // When the resource metrics arrived dates their CPU counters if the kubelet gave no timestamps.
          this.nodeText(node, resource).then((text) => {
            resourceAt = Date.now();
            return text;
          }),
          this.nodeText(node, cadvisor),
          // Volume stats are a bonus: a kubelet that will not give them leaves used bytes unknown, nothing else.
          this.nodeText(node, kubelet).catch(() => ""),
        ]);
        addNodeSamples(readings, parsePrometheusText(r), parsePrometheusText(c), resourceAt);
        addVolumeSamples(volumesUsed, parsePrometheusText(k));
      } catch {
        failed.push(node.metadata.name);
      }
    });
    return { readings, volumesUsed, failed, count: nodes.items.length };
  }

  private async namespaceFacts(namespace: string, withServices: boolean) {
    const ns = `/api/v1/namespaces/${namespace}`;
    const [pods, claims, quotas, services] = await Promise.all([
      this.get<List<Pod>>(`${ns}/pods`),
      this.get<
        List<{ metadata: Meta; status?: { phase?: string; capacity?: { storage?: string } } }>
      >(`${ns}/persistentvolumeclaims`),
      this.get<List<{ status?: { hard?: Record<string, string>; used?: Record<string, string> } }>>(
        `${ns}/resourcequotas`,
      ),
      withServices ? this.get<List<Service>>(`${ns}/services`) : Promise.resolve({ items: [] }),
    ]);
    const quota = quotas.items[0]?.status;
    return {
      pods: pods.items.map(podFacts),
      claims: claims.items
        .filter((c) => c.status?.phase === "Bound" && c.status.capacity?.storage)
        .map((c) => ({ name: c.metadata.name, capacity: c.status?.capacity?.storage ?? "0" })),
      ...(quota ? { quota: { hard: quota.hard ?? {}, used: quota.used ?? {} } } : {}),
      services: services.items,
    };
  }

  private async usageOf(
    kind: MeteredKind,
    item: Instance,
    pass: {
      readings: Readings;
      volumesUsed: ReadonlyMap<string, number>;
      failedNodes: ReadonlySet<string>;
      nowMs: number;
      namespaceLabels: ReadonlyMap<string, Record<string, string>>;
    },
  ): Promise<InstanceUsage | undefined> {
    const where = releaseOf(kind.kind, item, pass.namespaceLabels);
    const facts = where
      ? await this.namespaceFacts(
          where.targetNamespace,
          kind.monitorRelationships === "all" || kind.appEndpoints !== undefined,
        ).catch(() => undefined)
      : undefined;
    if (!where || !facts) return undefined;
    const { targetNamespace, release } = where;
    const inventory = item.status?.inventory ?? [];
    const instance: InstanceFacts = {
      kind: kind.kind,
      group: kind.group,
      namespace: item.metadata.namespace ?? "",
      name: item.metadata.name,
      release,
      targetNamespace,
      inventory,
      monitorRelationships: kind.monitorRelationships,
      serviceSelectors: selectorsOf(facts.services, inventory),
    };
    const app = await scrapeApp(kind.appEndpoints, appPods(facts, instance), facts.services);
    const usage = computeUsage({
      instance,
      pods: facts.pods,
      claims: facts.claims,
      ...(facts.quota ? { quota: facts.quota } : {}),
      readings: pass.readings,
      ...(this.previous ? { previous: this.previous } : {}),
      failedNodes: pass.failedNodes,
      nowMs: pass.nowMs,
      volumesUsed: pass.volumesUsed,
      custom: app.custom,
    });
    return app.warnings.length > 0
      ? { ...usage, warnings: [...usage.warnings, ...app.warnings] }
      : usage;
  }

  /** One pass over every instance (or only those `filter` keeps). */
  async pass(filter?: (kind: MeteredKind, item: Instance) => boolean): Promise<PassResult> {
    const started = Date.now();
    const kinds = await this.kinds();
    const [all, nodes, namespaceLabels] = await Promise.all([
      this.instances(kinds),
      this.scrapeNodes(),
      this.namespaceLabels(),
    ]);
    const selected = all.filter(({ kind, item }) => (filter ? filter(kind, item) : true));
    const nowMs = Date.now();
    const failedNodes = new Set(nodes.failed);
    const usages = await pool(selected, this.concurrency, ({ kind, item }) =>
      this.usageOf(kind, item, {
        readings: nodes.readings,
        volumesUsed: nodes.volumesUsed,
        failedNodes,
        nowMs,
        namespaceLabels,
      }),
    );
    if (!filter)
      this.previous = {
        readings: carryCounters(this.previous, nodes.readings, nowMs),
        atMs: nowMs,
      };
    return {
      usages: usages.filter((u): u is InstanceUsage => u !== undefined),
      durationMs: Date.now() - started,
      nodes: nodes.count,
      failedNodes: nodes.failed,
    };
  }
}
