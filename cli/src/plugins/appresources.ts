import type { KubeConfig } from "@kubernetes/client-node";
import { kubeRequest } from "@kubeplus/kube";
import { readinessOf, releaseNamespaceOf, type InstanceObject } from "../common/instances.js";
import { ObjectPaths, statusOf } from "../common/objects.js";
import { render, table } from "../common/output.js";
import { readInstanceCommand } from "../common/instance-command.js";
import { runPlugin, type PluginIO } from "../common/plugin.js";

export const APPRESOURCES_HELP = `List everything an application instance consists of: the instance, every object of its release (in install
order), its pods, and the NetworkPolicies, ResourceQuota and LimitRange that fence it.

Usage:
  kubectl appresources <Kind> <instance> [<namespace>] [-k <kubeconfig>] [-o table|json|yaml]
`;

export interface AppResource {
  namespace: string;
  kind: string;
  name: string;
  status: string;
}

/** The fence objects and pods of the release namespace, listed after the release's own objects. */
const LISTED = [
  { path: "/api/v1", plural: "pods", kind: "Pod" },
  { path: "/apis/networking.k8s.io/v1", plural: "networkpolicies", kind: "NetworkPolicy" },
  { path: "/api/v1", plural: "resourcequotas", kind: "ResourceQuota" },
  { path: "/api/v1", plural: "limitranges", kind: "LimitRange" },
] as const;

async function inventoryRows(kc: KubeConfig, instance: InstanceObject): Promise<AppResource[]> {
  const paths = new ObjectPaths(kc);
  return Promise.all(
    (instance.status?.inventory ?? []).map(async (o) => {
      const path = await paths.pathOf(o.apiVersion, o.kind, o.namespace, o.name);
      const live = path ? await kubeRequest(kc, "GET", path).catch(() => undefined) : undefined;
      const status = live ? statusOf(live) : "Missing";
      return { namespace: o.namespace, kind: o.kind, name: o.name, status };
    }),
  );
}

async function listedRows(kc: KubeConfig, namespace: string): Promise<AppResource[]> {
  const rows: AppResource[] = [];
  for (const l of LISTED) {
    const list = (await kubeRequest(
      kc,
      "GET",
      `${l.path}/namespaces/${namespace}/${l.plural}`,
    ).catch(() => ({ items: [] }))) as { items: { metadata: { name: string } }[] };
    for (const item of list.items)
      rows.push({
        namespace,
        kind: l.kind,
        name: item.metadata.name,
        status: statusOf({ ...item, kind: l.kind }),
      });
  }
  return rows;
}

/** The rows of `kubectl appresources`: instance first, then the release in install order, then pods and fences. */
export async function appResources(
  kc: KubeConfig,
  instance: InstanceObject,
): Promise<AppResource[]> {
  const rows: AppResource[] = [
    {
      namespace: instance.metadata.namespace,
      kind: instance.kind,
      name: instance.metadata.name,
      status: readinessOf(instance),
    },
    ...(await inventoryRows(kc, instance)),
  ];
  const seen = new Set(rows.map((r) => `${r.kind}/${r.namespace}/${r.name}`));
  for (const row of await listedRows(kc, releaseNamespaceOf(instance)))
    if (!seen.has(`${row.kind}/${row.namespace}/${row.name}`)) rows.push(row);
  return rows;
}

export function runAppResources(argv: readonly string[], io: PluginIO): Promise<number> {
  return runPlugin("appresources", io, async () => {
    const command = await readInstanceCommand(argv, io, APPRESOURCES_HELP);
    if (!command) return;
    const { kc, instance, output } = command;
    const rows = await appResources(kc, instance);
    io.out(
      render(output, rows, () =>
        table([
          ["NAMESPACE", "KIND", "NAME", "STATUS"],
          ...rows.map((r) => [r.namespace, r.kind, r.name, r.status]),
        ]),
      ),
    );
  });
}
