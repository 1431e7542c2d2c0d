import { parseArgs } from "node:util";
import type { KubeConfig } from "@kubernetes/client-node";
import { kubeRequest } from "@kubeplus/kube";
import {
  findInstance,
  readinessOf,
  releaseNamespaceOf,
  resolveKind,
  type InstanceObject,
} from "../common/instances.js";
import { ObjectPaths, statusOf } from "../common/objects.js";
import { outputOf, render, table } from "../common/output.js";
import { runPlugin, UsageError, type PluginIO } from "../common/plugin.js";

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
      io.out(APPRESOURCES_HELP);
      return;
    }
    const [kind, name, namespace, ...rest] = positionals;
    if (!kind || !name || rest.length > 0)
      throw new UsageError("expected: <Kind> <instance> [<namespace>]");
    const output = outputOf(values.output);
    const kc = await io.loadKubeconfig(values.kubeconfig);
    const instance = await findInstance(
      kc,
      await resolveKind(kc, kind),
      name,
      namespace ?? values.namespace,
    );
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
