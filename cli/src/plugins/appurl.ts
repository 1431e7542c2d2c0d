import type { KubeConfig } from "@kubernetes/client-node";
import { kubeRequest } from "@kubeplus/kube";
import { releaseNamespaceOf } from "../common/instances.js";
import { render } from "../common/output.js";
import { readInstanceCommand } from "../common/instance-command.js";
import { runPlugin, type PluginIO } from "../common/plugin.js";

export const APPURL_HELP = `Print the URLs an application instance is reachable at: its Ingress hosts, its LoadBalancer addresses, and its
NodePorts on the nodes' addresses.

Usage:
  kubectl appurl <Kind> <instance> [<namespace>] [-k <kubeconfig>] [-o table|json]
`;

interface Ingress {
  spec?: {
    tls?: { hosts?: string[] }[];
    rules?: { host?: string; http?: { paths?: { path?: string }[] } }[];
  };
}
interface Service {
  metadata: { name: string };
  spec?: { type?: string; ports?: { port: number; nodePort?: number }[] };
  status?: { loadBalancer?: { ingress?: { ip?: string; hostname?: string }[] } };
}
interface Node {
  status?: { addresses?: { type: string; address: string }[] };
}

export interface AppUrl {
  url: string;
  source: string;
}

const scheme = (port: number): string => (port === 443 || port === 8443 ? "https" : "http");
const portSuffix = (port: number, s: string): string =>
  (s === "http" && port === 80) || (s === "https" && port === 443) ? "" : `:${port}`;

/** Ingress rules: https when the host is in a TLS section. */
export function ingressUrls(name: string, ingress: Ingress): AppUrl[] {
  const tlsHosts = new Set((ingress.spec?.tls ?? []).flatMap((t) => t.hosts ?? []));
  return (ingress.spec?.rules ?? [])
    .filter((r) => r.host)
    .flatMap((r) =>
      (r.http?.paths ?? [{ path: "/" }]).map((p) => ({
        url: `${tlsHosts.has(r.host ?? "") ? "https" : "http"}://${r.host}${p.path ?? "/"}`,
        source: `Ingress/${name}`,
      })),
    );
}

/** LoadBalancer addresses (the external ones, not the cluster IP) and NodePorts on each node's address. */
export function serviceUrls(service: Service, nodeAddresses: readonly string[]): AppUrl[] {
  const source = `Service/${service.metadata.name}`;
  const ports = service.spec?.ports ?? [];
  if (service.spec?.type === "LoadBalancer") {
    const hosts = (service.status?.loadBalancer?.ingress ?? []).map(
      (i) => i.hostname ?? i.ip ?? "",
    );
    return hosts.filter(Boolean).flatMap((h) =>
      ports.map((p) => ({
        url: `${scheme(p.port)}://${h}${portSuffix(p.port, scheme(p.port))}`,
        source,
      })),
    );
  }
  if (service.spec?.type === "NodePort")
    return ports
      .filter((p) => p.nodePort)
      .flatMap((p) =>
        nodeAddresses.map((a) => ({ url: `${scheme(p.port)}://${a}:${p.nodePort}`, source })),
      );
  return [];
}

/** Each node's ExternalIP, else its InternalIP. */
async function nodeAddresses(kc: KubeConfig): Promise<string[] | undefined> {
  const nodes = (await kubeRequest(kc, "GET", "/api/v1/nodes").catch(() => undefined)) as
    { items: Node[] } | undefined;
  if (!nodes) return undefined;
  const all = nodes.items
    .map((n) => {
      const a = n.status?.addresses ?? [];
      return (
        (a.find((x) => x.type === "ExternalIP") ?? a.find((x) => x.type === "InternalIP"))
          ?.address ?? ""
      );
    })
    .filter(Boolean);
  return [...new Set(all)];
}

export function runAppUrl(argv: readonly string[], io: PluginIO): Promise<number> {
  return runPlugin("appurl", io, async () => {
    const command = await readInstanceCommand(argv, io, APPURL_HELP);
    if (!command) return;
    const { kc, instance, output } = command;
    const ns = releaseNamespaceOf(instance);
    const ingresses = (await kubeRequest(
      kc,
      "GET",
      `/apis/networking.k8s.io/v1/namespaces/${ns}/ingresses`,
    )) as {
      items: (Ingress & { metadata: { name: string } })[];
    };
    const services = (await kubeRequest(kc, "GET", `/api/v1/namespaces/${ns}/services`)) as {
      items: Service[];
    };
    const needNodes = services.items.some((s) => s.spec?.type === "NodePort");
    const addresses = needNodes ? await nodeAddresses(kc) : [];
    const urls = [
      ...ingresses.items.flatMap((i) => ingressUrls(i.metadata.name, i)),
      ...services.items.flatMap((s) => serviceUrls(s, addresses ?? [])),
    ];
    const note =
      addresses === undefined
        ? "NodePorts not shown: this kubeconfig may not read the nodes' addresses."
        : "";
    io.out(
      render(output, { urls, ...(note ? { note } : {}) }, () =>
        urls.length === 0
          ? `${instance.kind} ${instance.metadata.name} is not reachable from outside the cluster (no Ingress, LoadBalancer or NodePort).${note ? `\n${note}` : ""}`
          : [...urls.map((u) => `${u.url}   (${u.source})`), ...(note ? [note] : [])].join("\n"),
      ),
    );
  });
}
