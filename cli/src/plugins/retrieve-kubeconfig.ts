import {
  AccessNames,
  ClusterIO,
  kubeconfigSecretName,
  Paths,
  withServer,
  type Kubeconfig,
} from "@kubeplus/access";
import { KubeRequestError } from "@kubeplus/kube";
import { findKubeplusNamespace, runPlugin, UsageError, type PluginIO } from "../common/plugin.js";
import { stringify } from "yaml";
import { parsePluginArgs } from "../common/args.js";

export const RETRIEVE_HELP = `Print the stored provider or consumer kubeconfig (compact JSON).

Usage:
  kubectl retrieve kubeconfig provider|consumer [-s <url>] [-k <kubeconfig>] [-n <namespace>]

Flags:
  -s, --apiserverurl <url>   replace the server URL in the printed kubeconfig
  -k, --kubeconfig <path>    kubeconfig to read it with (default: $KUBECONFIG, else ~/.kube/config)
  -n, --namespace <ns>       the KubePlus namespace (default: found from the kubeconfig)
  -h, --help                 show this help
`;

export function runRetrieveKubeconfig(argv: readonly string[], io: PluginIO): Promise<number> {
  return runPlugin("retrieve kubeconfig", io, async () => {
    const args = parsePluginArgs(
      argv,
      {
        options: {
          apiserverurl: { type: "string", short: "s" },
          namespace: { type: "string", short: "n" },
        },
        formats: ["json", "yaml"],
        help: RETRIEVE_HELP,
      },
      io.out,
    );
    if (!args) return;
    const { values, positionals } = args;
    const [who, ...rest] = positionals;
    if ((who !== "provider" && who !== "consumer") || rest.length > 0)
      throw new UsageError("expected one argument: provider or consumer");
    const kc = await io.loadKubeconfig(args.target);
    const namespace = await findKubeplusNamespace(kc, values.namespace);
    const name = kubeconfigSecretName(
      who === "provider" ? AccessNames.Provider : AccessNames.Consumer,
    );
    const secret = await new ClusterIO(kc, "kubectl-kubeplus")
      .get<{ data?: Record<string, string> }>(Paths.secret(namespace, name))
      .catch((err: unknown) => {
        if (err instanceof KubeRequestError && err.code === 403)
          throw new Error(
            `this kubeconfig may not read the ${who} kubeconfig (Secret ${namespace}/${name})`,
          );
        throw err;
      });
    const stored = Object.values(secret?.data ?? {})[0];
    if (!stored)
      throw new Error(
        `no ${who} kubeconfig is stored in ${namespace} (Secret ${name}); ${who === "provider" ? "run provider-kubeconfig create" : "is the kubeconfig-generator running?"}`,
      );
    let config = JSON.parse(Buffer.from(stored, "base64").toString()) as Kubeconfig;
    if (values.apiserverurl) config = withServer(config, values.apiserverurl);
    io.out(args.output === "yaml" ? stringify(config) : `${JSON.stringify(config)}\n`);
  });
}
