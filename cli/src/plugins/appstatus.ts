import type { KubeConfig } from "@kubernetes/client-node";
import { kubeRequest } from "@kubeplus/kube";
import { releaseNamespaceOf, type InstanceObject } from "../common/instances.js";
import { statusOf } from "../common/objects.js";
import { render, table } from "../common/output.js";
import { readInstanceCommand } from "../common/instance-command.js";
import { runPlugin, type PluginIO } from "../common/plugin.js";

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
    const command = await readInstanceCommand(argv, io, APPSTATUS_HELP);
    if (!command) return;
    const { kc, instance, output } = command;
    const data = await appStatus(kc, instance);
    io.out(render(output, data, () => statusText(data)));
  });
}
