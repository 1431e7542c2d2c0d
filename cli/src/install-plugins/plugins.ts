import { chmod, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** kubectl finds `kubectl-a-b` on PATH as `kubectl a b`: each plugin, the script it runs, and what it is for. */
export const PLUGINS: readonly {
  command: string;
  entry: string;
  usage: string;
  summary: string;
}[] = [
  {
    command: "kubectl-kubeplus-commands",
    entry: "plugins/kubeplus-commands/main.js",
    usage: "kubectl kubeplus commands",
    summary: "list the KubePlus plugins",
  },
  {
    command: "kubectl-kubeplus-version",
    entry: "plugins/kubeplus-version/main.js",
    usage: "kubectl kubeplus version",
    summary: "the plugins' version and the Node.js that runs them",
  },
  {
    command: "kubectl-man",
    entry: "plugins/man/main.js",
    usage: "kubectl man <Kind>",
    summary: "a sample manifest of a kind, each field with its type, default and description",
  },
  {
    command: "kubectl-appresources",
    entry: "plugins/appresources/main.js",
    usage: "kubectl appresources <Kind> <instance> [<namespace>]",
    summary: "the instance, its release's objects, pods and isolation objects",
  },
  {
    command: "kubectl-metrics",
    entry: "plugins/metrics/main.js",
    usage: "kubectl metrics <Kind> <instance> [<namespace>] [-o table|json|yaml|prometheus]",
    summary: "what the instance consumes: pods, CPU, memory, storage, network, quota, app metrics",
  },
  {
    command: "kubectl-appstatus",
    entry: "plugins/appstatus/main.js",
    usage: "kubectl appstatus <Kind> <instance> [<namespace>]",
    summary: "the instance's release, conditions and pods",
  },
  {
    command: "kubectl-appurl",
    entry: "plugins/appurl/main.js",
    usage: "kubectl appurl <Kind> <instance> [<namespace>]",
    summary: "the URLs the instance is reachable at (Ingress, LoadBalancer, NodePort)",
  },
  {
    command: "kubectl-applogs",
    entry: "plugins/applogs/main.js",
    usage: "kubectl applogs <Kind> <instance> [<namespace>] [-c <container>] [--since 1h] [-f]",
    summary: "the logs of every container of the instance's pods, a banner per container",
  },
  {
    command: "kubectl-connections",
    entry: "plugins/connections/main.js",
    usage: "kubectl connections <Kind> <instance> <namespace> [-o table|json|yaml|dot|png|html]",
    summary: "how the instance connects to every object of its release",
  },
  {
    command: "kubectl-upload-chart",
    entry: "plugins/upload-chart/main.js",
    usage: "kubectl upload chart <chart.tgz>",
    summary: "store a chart in the cluster for chartURL: file:///<chart.tgz>",
  },
  {
    command: "kubectl-license",
    entry: "plugins/license/main.js",
    usage: "kubectl license create|get|delete <Kind> [<licenseFile>] [-e MM/DD/YYYY] [-n N]",
    summary: "limit a kind's instances by number and expiry date",
  },
  {
    command: "kubectl-fleet",
    entry: "plugins/fleet/main.js",
    usage: "kubectl fleet status|pause|resume <Kind> [-o table|json|yaml]",
    summary: "a kind's chart rollout: phase, wave, counts, held instances; pause or resume it",
  },
  {
    command: "kubectl-allow-network-traffic",
    entry: "plugins/allow-network-traffic/main.js",
    usage: "kubectl allow network traffic <ns1> <ns2>",
    summary: "open traffic between two instances' namespaces, both ways",
  },
  {
    command: "kubectl-deny-network-traffic",
    entry: "plugins/deny-network-traffic/main.js",
    usage: "kubectl deny network traffic <ns1> <ns2>",
    summary: "close it again",
  },
  {
    command: "kubectl-retrieve-kubeconfig",
    entry: "plugins/retrieve-kubeconfig/main.js",
    usage: "kubectl retrieve kubeconfig provider|consumer [-s <url>]",
    summary: "print the stored provider or consumer kubeconfig",
  },
  {
    command: "kubectl-grantpermission",
    entry: "plugins/grantpermission/main.js",
    usage: "kubectl grantpermission consumer <plural> <provider-kubeconfig>",
    summary: "let consumers manage instances of more kinds",
  },
  {
    command: "kubectl-show-provider-permissions",
    entry: "plugins/show-provider-permissions/main.js",
    usage: "kubectl show provider permissions [<namespace>]",
    summary: "the provider's RBAC rules and the admission policies that fence them",
  },
  {
    command: "kubectl-show-consumer-permissions",
    entry: "plugins/show-consumer-permissions/main.js",
    usage: "kubectl show consumer permissions <namespace> <consumer>",
    summary: "a consumer's RBAC rules in its namespace",
  },
];

/** Writes one small launcher per plugin into `dir` (put it on PATH); they run the built scripts with node. */
export async function installPlugins(dir: string): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const dist = fileURLToPath(new URL("..", import.meta.url));
  const written: string[] = [];
  for (const { command, entry } of PLUGINS) {
    const file = join(dir, command);
    await writeFile(file, `#!/bin/sh\nexec node "${join(dist, entry)}" "$@"\n`);
    await chmod(file, 0o755);
    written.push(file);
  }
  return written;
}
