import type { ClusterIO } from "./cluster-io.js";

/** One kind of namespaced object found in a namespace, and how many. */
export interface ContentCount {
  /** `<resource>` for the core group, `<resource>.<group>` otherwise (as kubectl names them). */
  readonly resource: string;
  readonly count: number;
}

/** What a namespace holds, and the resources that could not be listed (so a summary never pretends). */
export interface NamespaceContents {
  readonly counts: readonly ContentCount[];
  readonly unlisted: readonly string[];
}

/** Objects every namespace gets from Kubernetes itself: they make no namespace "non-empty". */
const BUILT_IN: Readonly<Record<string, readonly string[]>> = {
  serviceaccounts: ["default"],
  configmaps: ["kube-root-ca.crt"],
};

/** Records, not objects anyone owns: events say what happened, they hold nothing. */
const IGNORED = new Set(["events", "events.events.k8s.io"]);

/** What counts: the objects of one resource, minus those every namespace has. */
export function countObjects(resource: string, names: readonly string[], more = 0): number {
  const builtIn = BUILT_IN[resource] ?? [];
  return names.filter((n) => !builtIn.includes(n)).length + more;
}

/** "3 secrets, 1 serviceaccounts, 2 deployments.apps" (Secrets and ServiceAccounts first: they hold credentials). */
export function describeContents(contents: NamespaceContents): string {
  const first = ["secrets", "serviceaccounts"];
  const rank = (r: string): number => (first.includes(r) ? first.indexOf(r) : first.length);
  const parts = [...contents.counts]
    .filter((c) => c.count > 0)
    .sort((a, b) => rank(a.resource) - rank(b.resource) || a.resource.localeCompare(b.resource))
    .map((c) => `${String(c.count)} ${c.resource}`);
  const held = parts.length > 0 ? parts.join(", ") : "nothing besides what every namespace has";
  return contents.unlisted.length > 0
    ? `${held} (could not list: ${contents.unlisted.join(", ")})`
    : held;
}

export function isEmpty(contents: NamespaceContents): boolean {
  return contents.counts.every((c) => c.count === 0);
}

interface DiscoveryResource {
  resource: string;
  scope: "Namespaced" | "Cluster";
  verbs?: string[];
}
export interface DiscoveryList {
  items?: {
    metadata?: { name?: string };
    versions?: { version: string; resources?: DiscoveryResource[] }[];
  }[];
}

const DISCOVERY_ACCEPT =
  "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json;q=0.9";

export interface Listable {
  readonly name: string;
  readonly path: (namespace: string) => string;
}

/** The namespaced, listable resources of one discovery document (the preferred version of each group). */
export function listableIn(prefix: "/api" | "/apis", list: DiscoveryList | undefined): Listable[] {
  return (list?.items ?? []).flatMap((group) => {
    const groupName = group.metadata?.name ?? "";
    const version = group.versions?.[0];
    if (!version) return [];
    const base = `${prefix}${groupName ? `/${groupName}` : ""}/${version.version}`;
    return (version.resources ?? [])
      .map((r) => ({ r, name: groupName ? `${r.resource}.${groupName}` : r.resource }))
      .filter(
        ({ r, name }) =>
          r.scope === "Namespaced" && (r.verbs ?? []).includes("list") && !IGNORED.has(name),
      )
      .map(({ r, name }) => ({
        name,
        path: (ns: string) => `${base}/namespaces/${ns}/${r.resource}?limit=100`,
      }));
  });
}

async function listableResources(io: ClusterIO): Promise<Listable[]> {
  const [core, groups] = await Promise.all([
    io.get<DiscoveryList>("/api", DISCOVERY_ACCEPT),
    io.get<DiscoveryList>("/apis", DISCOVERY_ACCEPT),
  ]);
  return [...listableIn("/api", core), ...listableIn("/apis", groups)];
}

/** Lists every namespaced kind in the namespace (an administrator's view): what its new manager would hold. */
export async function readNamespaceContents(
  io: ClusterIO,
  namespace: string,
): Promise<NamespaceContents> {
  const resources = await listableResources(io);
  const unlisted: string[] = [];
  const counts = await Promise.all(
    resources.map(async (r): Promise<ContentCount> => {
      try {
        const list = await io.get<{
          items?: { metadata?: { name?: string } }[];
          metadata?: { remainingItemCount?: number };
        }>(r.path(namespace));
        const names = (list?.items ?? []).map((i) => i.metadata?.name ?? "");
        return {
          resource: r.name,
          count: countObjects(r.name, names, list?.metadata?.remainingItemCount ?? 0),
        };
      } catch {
        unlisted.push(r.name);
        return { resource: r.name, count: 0 };
      }
    }),
  );
  return { counts, unlisted: unlisted.sort() };
}
