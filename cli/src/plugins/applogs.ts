import type { KubeConfig } from "@kubernetes/client-node";
import { kubeRequest, kubeStream } from "@kubeplus/kube";
import { findInstance, releaseNamespaceOf, resolveKind } from "../common/instances.js";
import { runPlugin, UsageError, type PluginIO } from "../common/plugin.js";
import { parsePluginArgs } from "../common/args.js";

export const APPLOGS_HELP = `Print the logs of every container (init containers first) of an application instance's pods, with a banner per
container.

Usage:
  kubectl applogs <Kind> <instance> [<namespace>] [-c <container>] [--since <duration>] [-f] [-k <kubeconfig>]

Flags:
  -c, --container <name>   only this container
      --since <duration>   only lines newer than this, e.g. 10m, 1h, 30s
  -f, --follow             keep streaming (every container at once, each line prefixed with [pod/container])
`;

interface Pod {
  metadata: { name: string };
  spec: { initContainers?: { name: string }[]; containers: { name: string }[] };
}

/** `--since` as kubectl takes it (s, m or h), in seconds. */
export function sinceSeconds(text: string): number {
  const m = /^(\d+)(s|m|h)$/.exec(text);
  if (!m) throw new UsageError(`--since "${text}" must be a number with s, m or h (e.g. 10m)`);
  return Number(m[1]) * { s: 1, m: 60, h: 3600 }[m[2] as "s" | "m" | "h"];
}

/** The containers to show, init containers first, as [pod, container] pairs. */
export function logTargets(pods: readonly Pod[], only?: string): [string, string][] {
  const pairs = pods.flatMap((p) =>
    [...(p.spec.initContainers ?? []), ...p.spec.containers].map((c): [string, string] => [
      p.metadata.name,
      c.name,
    ]),
  );
  return only ? pairs.filter(([, c]) => c === only) : pairs;
}

function logPath(ns: string, pod: string, container: string, query: string): string {
  return `/api/v1/namespaces/${ns}/pods/${pod}/log?container=${encodeURIComponent(container)}${query}`;
}

/** What the log printers work on. */
interface LogJob {
  readonly kc: KubeConfig;
  readonly ns: string;
  readonly targets: [string, string][];
  readonly query: string;
}

async function printAll({ kc, ns, targets, query }: LogJob, io: PluginIO): Promise<void> {
  for (const [pod, container] of targets) {
    io.out(`==== Pod ${pod}, container ${container} ====\n`);
    let last = "";
    await kubeStream(kc, logPath(ns, pod, container, query), (text) => {
      last = text;
      io.out(text);
    });
    io.out(last === "" || last.endsWith("\n") ? "\n" : "\n\n");
  }
}

async function followAll({ kc, ns, targets, query }: LogJob, io: PluginIO): Promise<void> {
  await Promise.all(
    targets.map(([pod, container]) => {
      let partial = "";
      return kubeStream(kc, logPath(ns, pod, container, `${query}&follow=true`), (text) => {
        const lines = (partial + text).split("\n");
        partial = lines.pop() ?? "";
        for (const line of lines) io.out(`[${pod}/${container}] ${line}\n`);
      });
    }),
  );
}

export function runAppLogs(argv: readonly string[], io: PluginIO): Promise<number> {
  return runPlugin("applogs", io, async () => {
    const args = parsePluginArgs(
      argv,
      {
        options: {
          container: { type: "string", short: "c" },
          since: { type: "string" },
          follow: { type: "boolean", short: "f" },
          namespace: { type: "string", short: "n" },
        },
        formats: [],
        help: APPLOGS_HELP,
      },
      io.out,
    );
    if (!args) return;
    const { values, positionals } = args;
    const [kind, name, namespace, ...rest] = positionals;
    if (!kind || !name || rest.length > 0)
      throw new UsageError("expected: <Kind> <instance> [<namespace>]");
    const query = values.since ? `&sinceSeconds=${sinceSeconds(values.since)}` : "";
    const kc = await io.loadKubeconfig(args.target);
    const kindInfo = await resolveKind(kc, kind);
    const instance = await findInstance(kc, kindInfo, name, namespace ?? values.namespace);
    const ns = releaseNamespaceOf(instance);
    const pods = (
      (await kubeRequest(kc, "GET", `/api/v1/namespaces/${ns}/pods`)) as { items: Pod[] }
    ).items;
    const targets = logTargets(pods, values.container);
    if (targets.length === 0)
      throw new Error(
        values.container
          ? `no container ${values.container} in the pods of ${kindInfo.kind} ${name}`
          : `${kindInfo.kind} ${name} has no pods`,
      );
    const job = { kc, ns, targets, query };
    if (values.follow) await followAll(job, io);
    else await printAll(job, io);
  });
}
