import { parseArgs } from "node:util";
import type { KubeConfig } from "@kubernetes/client-node";
import { kubeRequest } from "@kubeplus/kube";
import {
  findInstance,
  releaseNamespaceOf,
  resolveKind,
  type InstanceObject,
} from "../common/instances.js";
import { statusOf } from "../common/objects.js";
import { outputOf, render, table } from "../common/output.js";
import { runPlugin, UsageError, type PluginIO } from "../common/plugin.js";

export const APPSTATUS_HELP = `Show an application instance's state: its release, its conditions, and each pod with phase and readiness.

Usage:
  kubectl appstatus <Kind> <instance> [<namespace>] [-k <kubeconfig>] [-o table|json|yaml]
`;

interface Pod {
  metadata: { name: string };
  spec?: { nodeName?: string };
  status?: { phase?: string; containerStatuses?: { ready?: boolean; restartCount?: number }[] };
}

async function podsOf(kc: KubeConfig, namespace: string): Promise<AppPod[]> {
  const list = (await kubeRequest(kc, "GET", `/api/v1/namespaces/${namespace}/pods`).catch(() => ({
    items: [],
  }))) as { items: Pod[] };
  return list.items.map((p) => ({
    name: p.metadata.name,
    status: statusOf({ ...p, kind: "Pod" }),
    node: p.spec?.nodeName ?? "",
    restarts: (p.status?.containerStatuses ?? []).reduce((n, c) => n + (c.restartCount ?? 0), 0),
  }));
}

interface AppPod {
  name: string;
  status: string;
  node: string;
  restarts: number;
}

export interface AppStatus {
  kind: string;
  name: string;
  namespace: string;
  release: string;
  chart: string;
  observedGeneration: number;
  conditions: NonNullable<NonNullable<InstanceObject["status"]>["conditions"]>;
  pods: AppPod[];
}

export async function appStatus(kc: KubeConfig, instance: InstanceObject): Promise<AppStatus> {
  const status = instance.status ?? {};
  return {
    kind: instance.kind,
    name: instance.metadata.name,
    namespace: instance.metadata.namespace,
    release: status.helmrelease ?? "",
    chart: status.chart?.ref ?? "",
    observedGeneration: status.observedGeneration ?? 0,
    conditions: status.conditions ?? [],
    pods: await podsOf(kc, releaseNamespaceOf(instance)),
  };
}

function statusText(data: AppStatus): string {
  const pods =
    data.pods.length === 0
      ? "No pods."
      : table([
          ["POD", "STATUS", "RESTARTS", "NODE"],
          ...data.pods.map((p) => [p.name, p.status, String(p.restarts), p.node]),
        ]);
  return [
    `${data.kind} ${data.namespace}/${data.name}`,
    `Release: ${data.release || "(none yet)"}${data.chart ? `   Chart: ${data.chart}` : ""}`,
    "",
    table([
      ["CONDITION", "STATUS", "REASON", "MESSAGE"],
      ...data.conditions.map((c) => [
        c.type,
        c.status,
        c.reason ?? "",
        (c.message ?? "").split("\n")[0] ?? "",
      ]),
    ]),
    "",
    pods,
  ].join("\n");
}

export function runAppStatus(argv: readonly string[], io: PluginIO): Promise<number> {
  return runPlugin("appstatus", io, async () => {
    const { values, positionals } = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        kubeconfig: { type: "string", short: "k" },
        namespace: { type: "string", short: "n" },
        output: { type: "string", short: "o" },
        help: { type: "boolean", short: "h" },
      },
    });
    if (values.help) {
      io.out(APPSTATUS_HELP);
      return;
    }
    const [kind, name, namespace, ...rest] = positionals;
    if (!kind || !name || rest.length > 0)
      throw new UsageError("expected: <Kind> <instance> [<namespace>]");
    const output = outputOf(values.output);
    const kc = await io.loadKubeconfig(values.kubeconfig);
    const kindInfo = await resolveKind(kc, kind);
    const instance = await findInstance(kc, kindInfo, name, namespace ?? values.namespace);
    const data = await appStatus(kc, instance);
    io.out(render(output, data, () => statusText(data)));
  });
}
