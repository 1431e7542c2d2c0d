/**
 * The rows the instance page shows for the objects of its release (as `kubectl get pods|services|deployments` and
 * `kubectl get events` print them), and the namespace the instance's release lives in. Pure.
 */
import { age } from "./columns.js";
import { arr, num, str } from "./read.js";

/** The namespace of the instance's release: status.namespace, else the namespace in status.helmrelease (`ns:release`). */
export function releaseNamespace(
  status: { readonly namespace?: string; readonly helmrelease?: string } | null | undefined,
): string | undefined {
  if (status?.namespace) return status.namespace;
  const hr = status?.helmrelease;
  if (hr?.includes(":")) return hr.slice(0, hr.indexOf(":")) || undefined;
  return undefined;
}

export interface Pod {
  readonly metadata?: {
    readonly name?: string;
    readonly creationTimestamp?: string;
    readonly deletionTimestamp?: string;
  };
  readonly spec?: {
    readonly containers?: readonly { readonly name: string }[];
    readonly initContainers?: readonly { readonly name: string }[];
  };
  readonly status?: {
    readonly phase?: string;
    readonly reason?: string;
    readonly containerStatuses?: readonly {
      readonly name: string;
      readonly ready?: boolean;
      readonly restartCount?: number;
      readonly state?: {
        readonly waiting?: { readonly reason?: string };
        readonly terminated?: { readonly reason?: string };
      };
    }[];
  };
}

export interface PodRow {
  readonly name: string;
  readonly ready: string;
  readonly status: string;
  readonly restarts: number;
  readonly age: string;
  readonly containers: readonly string[];
}

/** kubectl get pods: READY ready/total, STATUS (a container's waiting or terminated reason over the phase), RESTARTS. */
export function podRow(pod: Pod, now: Date): PodRow {
  const statuses = pod.status?.containerStatuses ?? [];
  const containers = arr(pod, "spec", "containers").map((c) => str(c, "name"));
  const init = arr(pod, "spec", "initContainers").map((c) => str(c, "name"));
  return {
    name: str(pod, "metadata", "name"),
    ready: `${statuses.filter((s) => s.ready).length}/${containers.length || statuses.length}`,
    status: podStatus(pod),
    restarts: statuses.reduce((n, s) => n + num(s, "restartCount"), 0),
    age: age(pod.metadata?.creationTimestamp, now),
    containers: [...init, ...containers],
  };
}

function podStatus(pod: Pod): string {
  if (pod.metadata?.deletionTimestamp) return "Terminating";
  let status = str(pod, "status", "reason") || str(pod, "status", "phase") || "Unknown";
  for (const s of pod.status?.containerStatuses ?? []) {
    const why = str(s, "state", "waiting", "reason") || str(s, "state", "terminated", "reason");
    if (why && !s.ready) status = why;
  }
  return status;
}

export interface Service {
  readonly metadata?: { readonly name?: string };
  readonly spec?: {
    readonly type?: string;
    readonly clusterIP?: string;
    readonly ports?: readonly {
      readonly port: number;
      readonly protocol?: string;
      readonly nodePort?: number;
      readonly name?: string;
    }[];
  };
  readonly status?: {
    readonly loadBalancer?: {
      readonly ingress?: readonly { readonly ip?: string; readonly hostname?: string }[];
    };
  };
}

export interface ServiceRow {
  readonly name: string;
  readonly type: string;
  readonly clusterIP: string;
  readonly ports: string;
  /** The app's URLs (a LoadBalancer's address with each port), when it has one. */
  readonly urls: readonly string[];
}

export function serviceRow(svc: Service): ServiceRow {
  const ports = svc.spec?.ports ?? [];
  const urls = arr(svc, "status", "loadBalancer", "ingress").flatMap((i) => {
    const host = str(i, "hostname") || str(i, "ip");
    return host ? ports.map((p) => appUrl(host, p)) : [];
  });
  return {
    name: str(svc, "metadata", "name"),
    type: str(svc, "spec", "type") || "ClusterIP",
    clusterIP: str(svc, "spec", "clusterIP"),
    ports: ports.map(portText).join(","),
    urls,
  };
}

function appUrl(host: string, p: { readonly port: number; readonly name?: string }): string {
  const https = p.port === 443 || p.name === "https";
  const h = host.includes(":") ? `[${host}]` : host;
  const port = p.port === 80 || p.port === 443 ? "" : `:${p.port}`;
  return `${https ? "https" : "http"}://${h}${port}`;
}

function portText(p: {
  readonly port: number;
  readonly protocol?: string;
  readonly nodePort?: number;
}): string {
  return `${p.port}${p.nodePort ? `:${p.nodePort}` : ""}/${p.protocol ?? "TCP"}`;
}

export interface Deployment {
  readonly metadata?: { readonly name?: string; readonly creationTimestamp?: string };
  readonly spec?: { readonly replicas?: number };
  readonly status?: {
    readonly readyReplicas?: number;
    readonly updatedReplicas?: number;
    readonly availableReplicas?: number;
  };
}

export function deploymentRow(
  d: Deployment,
  now: Date,
): { name: string; ready: string; upToDate: number; available: number; age: string } {
  return {
    name: d.metadata?.name ?? "",
    ready: `${d.status?.readyReplicas ?? 0}/${d.spec?.replicas ?? 1}`,
    upToDate: d.status?.updatedReplicas ?? 0,
    available: d.status?.availableReplicas ?? 0,
    age: age(d.metadata?.creationTimestamp, now),
  };
}

export interface KubeEvent {
  readonly metadata?: { readonly name?: string; readonly creationTimestamp?: string };
  readonly type?: string;
  readonly reason?: string;
  readonly message?: string;
  readonly count?: number;
  readonly lastTimestamp?: string | null;
  readonly eventTime?: string | null;
  readonly source?: { readonly component?: string };
  readonly reportingComponent?: string;
}

export interface EventRow {
  readonly key: string;
  readonly type: string;
  readonly reason: string;
  readonly age: string;
  readonly from: string;
  readonly message: string;
  readonly at: number;
}

/** kubectl get events, newest last: LAST SEEN, TYPE, REASON, FROM, MESSAGE. */
export function eventRows(events: readonly KubeEvent[], now: Date): EventRow[] {
  return events.map((ev) => eventRow(ev, now)).sort((a, b) => a.at - b.at);
}

function eventRow(ev: KubeEvent, now: Date): EventRow {
  const when =
    str(ev, "lastTimestamp") || str(ev, "eventTime") || str(ev, "metadata", "creationTimestamp");
  return {
    key: str(ev, "metadata", "name"),
    type: str(ev, "type"),
    reason: str(ev, "reason"),
    age: age(when || undefined, now),
    from: str(ev, "source", "component") || str(ev, "reportingComponent"),
    message: str(ev, "message"),
    at: when ? Date.parse(when) || 0 : 0,
  };
}

export interface Ingress {
  readonly metadata?: { readonly name?: string };
  readonly spec?: {
    readonly tls?: readonly { readonly hosts?: readonly string[] }[];
    readonly rules?: readonly {
      readonly host?: string;
      readonly http?: { readonly paths?: readonly { readonly path?: string }[] };
    }[];
  };
  readonly status?: {
    readonly loadBalancer?: {
      readonly ingress?: readonly { readonly ip?: string; readonly hostname?: string }[];
    };
  };
}

/**
 * The app's URLs an Ingress gives: each rule's host (https when a TLS entry names it) and path; a rule without a host
 * is reached at the Ingress's load-balancer address.
 */
export function ingressUrls(ing: Ingress): string[] {
  const tlsHosts = new Set(
    arr(ing, "spec", "tls").flatMap((t) =>
      arr(t, "hosts").map((h) => (typeof h === "string" ? h : "")),
    ),
  );
  const lb = arr(ing, "status", "loadBalancer", "ingress").map(
    (i) => str(i, "hostname") || str(i, "ip"),
  );
  const urls: string[] = [];
  for (const rule of arr(ing, "spec", "rules")) {
    const host = str(rule, "host");
    const hosts = host ? [host] : lb.filter(Boolean);
    const paths = arr(rule, "http", "paths").map((p) => str(p, "path") || "/");
    for (const h of hosts)
      for (const p of paths.length ? paths : ["/"])
        urls.push(`${tlsHosts.has(h) ? "https" : "http"}://${h}${p.startsWith("/") ? p : `/${p}`}`);
  }
  return [...new Set(urls)];
}
