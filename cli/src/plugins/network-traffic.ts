import type { KubeConfig } from "@kubernetes/client-node";
import { ClusterIO } from "@kubeplus/access";
import { Labels, MANAGED_BY_VALUE } from "@kubeplus/api";
import { runPlugin, UsageError, type PluginIO } from "../common/plugin.js";
import { parsePluginArgs } from "../common/args.js";

/** The isolation policy the helmer puts into every instance namespace (the original's name). */
export const ISOLATION_POLICY = "restrict-cross-ns-traffic";
const ALLOWED_LABEL = "kubeplus.dev/allowed-namespace";

export const NETWORK_HELP = `Open or close traffic between the namespaces of two application instances, in both directions.

Usage:
  kubectl allow network traffic <namespace1> <namespace2> [-k <kubeconfig>]
  kubectl deny network traffic <namespace1> <namespace2> [-k <kubeconfig>]

The namespaces are the instances' own (<instance>-<8 hex digits>; see an instance's status.namespace).

Opening adds, in each namespace, a NetworkPolicy kubeplus-allow-<other> that admits traffic from the other namespace
and lets traffic go to it. NetworkPolicies add up, so the instance's own isolation policies stay as they are, and the
helmer, which keeps those converged, leaves the opening alone. Closing removes it. Both are safe to repeat.
`;

/** The NetworkPolicy that opens `namespace` to `other`. */
export function allowPolicy(namespace: string, other: string): Record<string, unknown> {
  const peer = [
    {
      namespaceSelector: {
        matchLabels: { "kubernetes.io/metadata.name": other },
      },
    },
  ];
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: {
      name: `kubeplus-allow-${other}`.slice(0, 253),
      namespace,
      labels: { [Labels.ManagedBy]: MANAGED_BY_VALUE, [ALLOWED_LABEL]: other },
    },
    spec: {
      podSelector: {},
      policyTypes: ["Ingress", "Egress"],
      ingress: [{ from: peer }],
      egress: [{ to: peer }],
    },
  };
}

const policyPath = (ns: string, name: string): string =>
  `/apis/networking.k8s.io/v1/namespaces/${ns}/networkpolicies/${name}`;

async function checkInstanceNamespace(io: ClusterIO, ns: string): Promise<void> {
  if (!(await io.get(policyPath(ns, ISOLATION_POLICY))))
    throw new Error(
      `namespace ${ns} is not an application instance's namespace (it has no NetworkPolicy ${ISOLATION_POLICY}); an instance's namespace is <instance>-<8 hex digits>, shown by kubectl get <kind> <instance> -o jsonpath='{.status.namespace}'`,
    );
}

async function allow(io: ClusterIO, a: string, b: string): Promise<string> {
  const name = `kubeplus-allow-${b}`;
  if (await io.get(policyPath(a, name)))
    return `Namespace ${b} is already allowed in namespace ${a}.`;
  await io.post(`/apis/networking.k8s.io/v1/namespaces/${a}/networkpolicies`, allowPolicy(a, b));
  return `Traffic from and to namespace ${b} allowed in namespace ${a} (NetworkPolicy ${name}).`;
}

async function deny(io: ClusterIO, a: string, b: string): Promise<string> {
  const name = `kubeplus-allow-${b}`;
  return (await io.delete(policyPath(a, name)))
    ? `Traffic from and to namespace ${b} denied in namespace ${a} (NetworkPolicy ${name} removed).`
    : `Namespace ${b} was not allowed in namespace ${a}.`;
}

/** `kubectl allow|deny network traffic`: both directions, idempotent, each step reported. */
export function runNetworkTraffic(
  mode: "allow" | "deny",
  argv: readonly string[],
  io: PluginIO,
): Promise<number> {
  return runPlugin(`${mode} network traffic`, io, async () => {
    const args = parsePluginArgs(
      argv,
      {
        options: {},
        formats: [],
        help: NETWORK_HELP,
      },
      io.out,
    );
    if (!args) return;
    const { positionals } = args;
    const [ns1, ns2, ...rest] = positionals;
    if (!ns1 || !ns2 || rest.length > 0)
      throw new UsageError("expected: <namespace1> <namespace2>");
    if (ns1 === ns2) throw new UsageError("the two namespaces are the same");
    const kc: KubeConfig = await io.loadKubeconfig(args.target);
    const cluster = new ClusterIO(kc, "kubectl-kubeplus");
    await checkInstanceNamespace(cluster, ns1);
    await checkInstanceNamespace(cluster, ns2);
    const step = mode === "allow" ? allow : deny;
    io.out(`${await step(cluster, ns1, ns2)}\n${await step(cluster, ns2, ns1)}\n`);
  });
}
