import type { KubeConfig } from "@kubernetes/client-node";
import { kubeRequest } from "@kubeplus/kube";

interface ResourceList {
  resources: { name: string; kind: string; namespaced: boolean }[];
}

/** Object paths from apiVersion and kind, through discovery (cached per group/version for one command). */
export class ObjectPaths {
  private readonly kc: KubeConfig;
  private readonly lists = new Map<string, Promise<ResourceList>>();

  constructor(kc: KubeConfig) {
    this.kc = kc;
  }

  async pathOf(
    apiVersion: string,
    kind: string,
    namespace: string,
    name: string,
  ): Promise<string | undefined> {
    const base = apiVersion.includes("/") ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
    let list = this.lists.get(base);
    if (!list) {
      list = kubeRequest(this.kc, "GET", base) as Promise<ResourceList>;
      this.lists.set(base, list);
    }
    const found = (await list.catch(() => ({ resources: [] }))).resources.find(
      (r) => r.kind === kind && !r.name.includes("/"),
    );
    if (!found) return undefined;
    return `${base}${found.namespaced ? `/namespaces/${namespace}` : ""}/${found.name}/${name}`;
  }
}

interface Workload {
  kind?: string;
  spec?: { replicas?: number; type?: string; completions?: number };
  status?: {
    phase?: string;
    readyReplicas?: number;
    replicas?: number;
    numberReady?: number;
    desiredNumberScheduled?: number;
    succeeded?: number;
    containerStatuses?: { ready?: boolean }[];
  };
}

function podStatus(o: Workload): string {
  const containers = o.status?.containerStatuses ?? [];
  const ready = containers.filter((c) => c.ready).length;
  return `${o.status?.phase ?? "Unknown"} ${ready}/${containers.length}`;
}

const replicated = (o: Workload): string =>
  `${o.status?.readyReplicas ?? 0}/${o.spec?.replicas ?? o.status?.replicas ?? 0} ready`;

const SUMMARIES: Record<string, (o: Workload) => string> = {
  Pod: podStatus,
  Deployment: replicated,
  StatefulSet: replicated,
  ReplicaSet: replicated,
  DaemonSet: (o) => `${o.status?.numberReady ?? 0}/${o.status?.desiredNumberScheduled ?? 0} ready`,
  Job: (o) => `${o.status?.succeeded ?? 0}/${o.spec?.completions ?? 1} succeeded`,
  Service: (o) => o.spec?.type ?? "ClusterIP",
  PersistentVolumeClaim: (o) => o.status?.phase ?? "Pending",
};

/** A short STATUS for an object (a live object as JSON), as kubectl's tables would summarise it. */
export function statusOf(object: unknown): string {
  const o = (object ?? {}) as Workload;
  return SUMMARIES[o.kind ?? ""]?.(o) ?? "-";
}
