import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import { promisify } from "node:util";
import type { KubeConfig } from "@kubernetes/client-node";
import { kubeRequest } from "@kubeplus/kube";
import { findInstance, releaseNamespaceOf, resolveKind } from "../common/instances.js";
import { table } from "../common/output.js";
import { runPlugin, UsageError, type PluginIO } from "../common/plugin.js";
import { connectionsFrom, toDot, type Connection, type GraphObject } from "./connections-graph.js";
import { stringify } from "yaml";
import { parsePluginArgs, type Format } from "../common/args.js";

export const CONNECTIONS_HELP = `Show how an application instance connects to every object of its release: owner references, label selectors,
spec references (volumes, ConfigMaps, Secrets, ServiceAccounts), environment variables and the release annotation.

Usage:
  kubectl connections <Kind> <instance> <namespace> [-o table|json|yaml|dot|png|html] [-i Kind:Name,...] [-k <kubeconfig>]

Output:
  table  a table (default; flat, the original's name, is still accepted)
  yaml   the same records as json
  json   the original's fields: Level, Kind, Name, Namespace, PeerKind, PeerName,
  dot    Graphviz source                   PeerNamespace, RelationType, RelationDetails
  png, html   rendered with Graphviz's dot (Debian package graphviz) into connections-<instance>.png|.html
`;

/** What the relationships are found among: the kinds a chart typically puts into an instance's namespace. */
const LISTS: [string, string, string][] = [
  ["/api/v1", "pods", "Pod"],
  ["/api/v1", "services", "Service"],
  ["/api/v1", "configmaps", "ConfigMap"],
  ["/api/v1", "secrets", "Secret"],
  ["/api/v1", "serviceaccounts", "ServiceAccount"],
  ["/api/v1", "persistentvolumeclaims", "PersistentVolumeClaim"],
  ["/apis/apps/v1", "deployments", "Deployment"],
  ["/apis/apps/v1", "replicasets", "ReplicaSet"],
  ["/apis/apps/v1", "statefulsets", "StatefulSet"],
  ["/apis/apps/v1", "daemonsets", "DaemonSet"],
  ["/apis/batch/v1", "jobs", "Job"],
  ["/apis/batch/v1", "cronjobs", "CronJob"],
  ["/apis/networking.k8s.io/v1", "ingresses", "Ingress"],
  ["/apis/networking.k8s.io/v1", "networkpolicies", "NetworkPolicy"],
];

async function objectsIn(kc: KubeConfig, ns: string): Promise<GraphObject[]> {
  const lists = await Promise.all(
    LISTS.map(async ([base, plural, kind]) => {
      const list = (await kubeRequest(kc, "GET", `${base}/namespaces/${ns}/${plural}`).catch(
        () => ({
          items: [],
        }),
      )) as { items: GraphObject[] };
      return list.items.map((o) => ({ ...o, kind }));
    }),
  );
  return lists.flat();
}

async function render(connections: Connection[], format: Format, file: string): Promise<string> {
  if (format === "json") return `${JSON.stringify(connections, null, 2)}\n`;
  if (format === "yaml") return stringify(connections);
  if (format === "dot") return toDot(connections);
  if (format === "table")
    return `${table([
      ["LEVEL", "KIND", "NAME", "PEER", "RELATION", "DETAILS"],
      ...connections.map((c) => [
        String(c.Level),
        c.Kind,
        c.Name,
        `${c.PeerKind}/${c.PeerName}`,
        c.RelationType,
        c.RelationDetails,
      ]),
    ])}\n`;
  const dot = await promisify(execFile)("dot", ["-V"]).catch(() => undefined);
  if (!dot)
    throw new Error(
      `-o ${format} needs Graphviz's dot, which is not installed: install the graphviz package (apt-get install graphviz), or use -o dot and render it elsewhere`,
    );
  const out = resolve(`${file}.${format}`);
  const rendered = await new Promise<Buffer>((done, fail) => {
    const child = execFile(
      "dot",
      [format === "png" ? "-Tpng" : "-Tsvg"],
      { encoding: "buffer" },
      (err, stdout) => {
        if (err) fail(new Error(`dot failed: ${err.message}`));
        else done(stdout);
      },
    );
    child.stdin?.end(toDot(connections));
  });
  await writeFile(
    out,
    format === "png"
      ? rendered
      : `<!doctype html>\n<html><body>\n${rendered.toString()}\n</body></html>\n`,
  );
  return `connections written to ${out}\n`;
}

export function runConnections(argv: readonly string[], io: PluginIO): Promise<number> {
  return runPlugin("connections", io, async () => {
    const args = parsePluginArgs(
      argv,
      {
        options: {
          ignore: { type: "string", short: "i" },
        },
        formats: ["table", "json", "yaml", "dot", "png", "html"],
        aliases: { flat: "table" },
        help: CONNECTIONS_HELP,
      },
      io.out,
    );
    if (!args) return;
    const { values, positionals } = args;
    const [kind, name, namespace, ...rest] = positionals;
    if (!kind || !name || !namespace || rest.length > 0)
      throw new UsageError("expected: <Kind> <instance> <namespace>");
    const ignore = new Set((values.ignore ?? "").split(",").filter(Boolean));
    const kc = await io.loadKubeconfig(args.target);
    const instance = await findInstance(kc, await resolveKind(kc, kind), name, namespace);
    const release = instance.status?.helmrelease?.split(":")[1];
    if (!release)
      throw new Error(
        `${instance.kind} ${name} has no release yet (see kubectl appstatus ${instance.kind} ${name})`,
      );
    const objects = await objectsIn(kc, releaseNamespaceOf(instance));
    const connections = connectionsFrom(instance, release, objects, ignore);
    io.out(await render(connections, args.output ?? "table", `connections-${name}`));
  });
}
