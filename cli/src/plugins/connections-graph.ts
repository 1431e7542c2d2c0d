/** A Kubernetes object as the relationship finder reads it. */
export interface GraphObject {
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: { kind: string; name: string }[];
  };
  spec?: Record<string, unknown>;
}

/** One relationship, with the original's JSON field names. */
export interface Connection {
  Level: number;
  Kind: string;
  Name: string;
  Namespace: string;
  PeerKind: string;
  PeerName: string;
  PeerNamespace: string;
  RelationType: "owner reference" | "label" | "specproperty" | "envvariable" | "annotation";
  RelationDetails: string;
}

interface Edge {
  from: GraphObject;
  to: GraphObject;
  type: Connection["RelationType"];
  details: string;
}

const key = (o: GraphObject): string =>
  `${o.kind}/${o.metadata.namespace ?? ""}/${o.metadata.name}`;

function matches(
  selector: Record<string, string> | undefined,
  labels: Record<string, string> | undefined,
): boolean {
  const entries = Object.entries(selector ?? {});
  return entries.length > 0 && entries.every(([k, v]) => labels?.[k] === v);
}

interface PodSpecLike {
  serviceAccountName?: string;
  volumes?: {
    configMap?: { name?: string };
    secret?: { secretName?: string };
    persistentVolumeClaim?: { claimName?: string };
  }[];
  containers?: ContainerLike[];
  initContainers?: ContainerLike[];
}
interface ContainerLike {
  name: string;
  env?: {
    name: string;
    valueFrom?: { configMapKeyRef?: { name?: string }; secretKeyRef?: { name?: string } };
  }[];
  envFrom?: { configMapRef?: { name?: string }; secretRef?: { name?: string } }[];
}

/** The pod spec of a Pod, or of a workload's template. */
function podSpecOf(o: GraphObject): PodSpecLike | undefined {
  const spec = o.spec as
    | (PodSpecLike & {
        template?: { spec?: PodSpecLike };
        jobTemplate?: { spec?: { template?: { spec?: PodSpecLike } } };
      })
    | undefined;
  if (o.kind === "Pod") return spec;
  return spec?.template?.spec ?? spec?.jobTemplate?.spec?.template?.spec;
}

/** Volumes and the service account: objects a pod spec names. */
function specReferences(spec: PodSpecLike): [string, string, string][] {
  const refs: [string, string, string][] = [];
  if (spec.serviceAccountName)
    refs.push(["ServiceAccount", spec.serviceAccountName, "spec.serviceAccountName"]);
  for (const v of spec.volumes ?? []) {
    if (v.configMap?.name) refs.push(["ConfigMap", v.configMap.name, "spec.volumes.configMap"]);
    if (v.secret?.secretName) refs.push(["Secret", v.secret.secretName, "spec.volumes.secret"]);
    if (v.persistentVolumeClaim?.claimName)
      refs.push([
        "PersistentVolumeClaim",
        v.persistentVolumeClaim.claimName,
        "spec.volumes.persistentVolumeClaim",
      ]);
  }
  return refs;
}

function containerEnvReferences(c: ContainerLike): [string, string, string][] {
  const fromEnv = (c.env ?? []).flatMap((e): [string, string, string][] => {
    const where = `${c.name}: env ${e.name}`;
    const cm = e.valueFrom?.configMapKeyRef?.name;
    const secret = e.valueFrom?.secretKeyRef?.name;
    return [
      ...(cm ? [["ConfigMap", cm, where] as [string, string, string]] : []),
      ...(secret ? [["Secret", secret, where] as [string, string, string]] : []),
    ];
  });
  const fromEnvFrom = (c.envFrom ?? []).flatMap((f): [string, string, string][] => {
    const where = `${c.name}: envFrom`;
    const cm = f.configMapRef?.name;
    const secret = f.secretRef?.name;
    return [
      ...(cm ? [["ConfigMap", cm, where] as [string, string, string]] : []),
      ...(secret ? [["Secret", secret, where] as [string, string, string]] : []),
    ];
  });
  return [...fromEnv, ...fromEnvFrom];
}

/** ConfigMaps and Secrets that environment variables come from. */
function envReferences(spec: PodSpecLike): [string, string, string][] {
  return [...(spec.initContainers ?? []), ...(spec.containers ?? [])].flatMap(
    containerEnvReferences,
  );
}

function selectorOf(o: GraphObject): Record<string, string> | undefined {
  const spec = o.spec as
    | {
        selector?: Record<string, string> & { matchLabels?: Record<string, string> };
        podSelector?: { matchLabels?: Record<string, string> };
      }
    | undefined;
  if (o.kind === "Service") return spec?.selector;
  if (o.kind === "NetworkPolicy") return spec?.podSelector?.matchLabels;
  return spec?.selector?.matchLabels;
}

const WORKLOADS_WITH_OWNED_PODS = new Set([
  "ReplicaSet",
  "Deployment",
  "StatefulSet",
  "DaemonSet",
  "Job",
]);

/** Services and NetworkPolicies select pods by label (workloads reach theirs through owner references). */
function selectorEdges(o: GraphObject, objects: readonly GraphObject[]): Edge[] {
  const selector = selectorOf(o);
  if (!selector || WORKLOADS_WITH_OWNED_PODS.has(o.kind)) return [];
  const details = Object.entries(selector)
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
  return objects
    .filter((p) => p.kind === "Pod" && matches(selector, p.metadata.labels))
    .map((pod) => ({ from: o, to: pod, type: "label", details }));
}

function referenceEdges(o: GraphObject, byKey: ReadonlyMap<string, GraphObject>): Edge[] {
  const podSpec = podSpecOf(o);
  if (!podSpec) return [];
  const edges: Edge[] = [];
  const add = (refs: [string, string, string][], type: Edge["type"]): void => {
    for (const [kind, name, details] of refs) {
      const target = byKey.get(`${kind}/${name}`);
      if (target) edges.push({ from: o, to: target, type, details });
    }
  };
  add(specReferences(podSpec), "specproperty");
  add(envReferences(podSpec), "envvariable");
  return edges;
}

/** Every edge among the objects: owners, selectors, spec and env references, and the release annotation. */
export function findEdges(
  instance: GraphObject,
  release: string,
  objects: readonly GraphObject[],
): Edge[] {
  const byKey = new Map(objects.map((o) => [`${o.kind}/${o.metadata.name}`, o]));
  return objects.flatMap((o): Edge[] => [
    ...(o.metadata.annotations?.["meta.helm.sh/release-name"] === release
      ? [
          {
            from: instance,
            to: o,
            type: "annotation" as const,
            details: `meta.helm.sh/release-name: ${release}`,
          },
        ]
      : []),
    ...(o.metadata.ownerReferences ?? []).flatMap((owner) => {
      const target = byKey.get(`${owner.kind}/${owner.name}`);
      return target
        ? [
            {
              from: target,
              to: o,
              type: "owner reference" as const,
              details: `${owner.kind}/${owner.name}`,
            },
          ]
        : [];
    }),
    ...selectorEdges(o, objects),
    ...referenceEdges(o, byKey),
  ]);
}

/**
 * The relationship graph from the instance, breadth first: each connection carries the level (distance from the
 * instance) of the object it starts from. Objects named in `ignore` (Kind:Name) are left out with their edges.
 */
export function connectionsFrom(
  instance: GraphObject,
  release: string,
  objects: readonly GraphObject[],
  ignore: ReadonlySet<string> = new Set(),
): Connection[] {
  const ignored = (o: GraphObject): boolean => ignore.has(`${o.kind}:${o.metadata.name}`);
  const edges = findEdges(
    instance,
    release,
    objects.filter((o) => !ignored(o)),
  );
  const levels = new Map([[key(instance), 0]]);
  const out: Connection[] = [];
  const seen = new Set<string>();
  const visit = (node: GraphObject, next: GraphObject[]): void => {
    const level = levels.get(key(node)) ?? 0;
    for (const e of edges.filter((x) => key(x.from) === key(node) || key(x.to) === key(node))) {
      const id = `${key(e.from)}>${key(e.to)}>${e.type}`;
      if (seen.has(id)) continue;
      seen.add(id);
      const peer = key(e.from) === key(node) ? e.to : e.from;
      out.push({
        Level: level,
        Kind: node.kind,
        Name: node.metadata.name,
        Namespace: node.metadata.namespace ?? "",
        PeerKind: peer.kind,
        PeerName: peer.metadata.name,
        PeerNamespace: peer.metadata.namespace ?? "",
        RelationType: e.type,
        RelationDetails: e.details,
      });
      if (levels.has(key(peer))) continue;
      levels.set(key(peer), level + 1);
      next.push(peer);
    }
  };
  let frontier = [instance];
  while (frontier.length > 0) {
    const next: GraphObject[] = [];
    for (const node of frontier) visit(node, next);
    frontier = next;
  }
  return out;
}

const COLORS: Record<Connection["RelationType"], string> = {
  specproperty: "crimson",
  label: "darkgreen",
  envvariable: "gold4",
  annotation: "indigo",
  "owner reference": "blue",
};

/** Graphviz DOT of the connections (pods light cyan, edges coloured by relation type, as the original draws them). */
export function toDot(connections: readonly Connection[]): string {
  const node = (kind: string, name: string): string => JSON.stringify(`${kind} ${name}`);
  const nodes = new Map<string, string>();
  for (const c of connections) {
    nodes.set(node(c.Kind, c.Name), c.Kind);
    nodes.set(node(c.PeerKind, c.PeerName), c.PeerKind);
  }
  const lines = [...nodes].map(
    ([id, kind]) =>
      `  ${id} [shape=box${kind === "Pod" ? ", style=filled, fillcolor=lightcyan" : ""}];`,
  );
  for (const c of connections)
    lines.push(
      `  ${node(c.Kind, c.Name)} -> ${node(c.PeerKind, c.PeerName)} [color=${COLORS[c.RelationType]}, label=${JSON.stringify(`${c.RelationType} (${c.RelationDetails})`)}];`,
    );
  return `digraph connections {\n  rankdir=LR;\n${lines.join("\n")}\n}\n`;
}
