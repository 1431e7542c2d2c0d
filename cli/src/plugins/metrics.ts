import { stringify } from "yaml";
import type { InstanceUsage } from "@kubeplus/contracts";
import { KubeRequestError, kubeRequest } from "@kubeplus/kube";
import { toJson, toPretty, toPrometheus } from "@kubeplus/metering";
import { readInstanceCommand } from "../common/instance-command.js";
import { releaseNamespaceOf } from "../common/instances.js";
import { runPlugin, type PluginIO } from "../common/plugin.js";

export const METRICS_HELP = `Show what an application instance consumes: its Kubernetes resources (sub-resources, pods, containers, nodes,
pods not running), CPU, memory, storage and network, its quota, and its application metrics. The figures are the
metrics-collector's latest pass (the same numbers its Prometheus endpoint serves), read from the cluster: the
provider's or a consumer's kubeconfig is enough.

Usage:
  kubectl metrics <Kind> <instance> [<namespace>] [-k <kubeconfig>] [-o table|json|yaml|prometheus]

Options:
  -k, --kubeconfig <path>   kubeconfig to use (default: $KUBECONFIG, else ~/.kube/config)
  -n, --namespace <ns>      the instance's namespace (default: found when the name is unique)
  -o, --output <format>     table (default; pretty, the original's name, is still accepted), json (numbers with
                            units, e.g. cpu.cores, memory.bytes), yaml (the same as json), prometheus
`;

/** The collector's latest usage of `release`, from the ConfigMap it keeps beside the release. */
async function latestUsage(
  kc: Parameters<typeof kubeRequest>[0],
  namespace: string,
  release: string,
): Promise<InstanceUsage | undefined> {
  try {
    const cm = (await kubeRequest(
      kc,
      "GET",
      `/api/v1/namespaces/${namespace}/configmaps/kubeplus-usage-${release}`,
    )) as { data?: Record<string, string> };
    const text = cm.data?.["usage.json"];
    return text ? (JSON.parse(text) as InstanceUsage) : undefined;
  } catch (err) {
    if (err instanceof KubeRequestError && err.code === 404) return undefined;
    throw err;
  }
}

export function runMetrics(argv: readonly string[], io: PluginIO): Promise<number> {
  return runPlugin("metrics", io, async () => {
    const command = await readInstanceCommand(argv, io, METRICS_HELP, {
      formats: ["table", "json", "yaml", "prometheus"],
      aliases: { pretty: "table" },
    });
    if (!command) return;
    const { kc, instance } = command;
    const { output } = command;
    const release = (instance.status?.helmrelease ?? "").split(":")[1];
    if (!release)
      throw new Error(
        `${instance.kind} ${instance.metadata.name} has no Helm release yet (see kubectl appstatus ${instance.kind} ${instance.metadata.name})`,
      );
    const usage = await latestUsage(kc, releaseNamespaceOf(instance), release);
    if (!usage)
      throw new Error(
        `no usage recorded yet for ${instance.kind} ${instance.metadata.name}: the metrics-collector writes it after each pass (every 30 s by default); check it runs: kubectl logs deploy/metrics-collector -n <kubeplus namespace>`,
      );
    if (output === "json") io.out(`${JSON.stringify(toJson(usage), null, 2)}\n`);
    else if (output === "yaml") io.out(stringify(toJson(usage)));
    else if (output === "prometheus") io.out(toPrometheus([usage]));
    else io.out(toPretty(usage));
  });
}
