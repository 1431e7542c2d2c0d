import { AccessNames, ClusterIO, grantConsumerKinds } from "@kubeplus/access";
import { DEFAULT_GENERATED_GROUP } from "@kubeplus/api";
import { runPlugin, UsageError, type PluginIO } from "../common/plugin.js";
import { parsePluginArgs } from "../common/args.js";

export const GRANT_HELP = `Let consumers create, read, update and delete instances of more kinds (added to earlier grants).

Usage:
  kubectl grantpermission consumer <plural>[,<plural>...] <provider-kubeconfig> [--group <group>]

Arguments:
  <plural>                the kinds' plural names, e.g. wordpressservices
  <provider-kubeconfig>   the provider's kubeconfig (kubeplus-saas-provider.json); -k works too

Flags:
      --group <group>     the kinds' API group (default: ${DEFAULT_GENERATED_GROUP})
  -k, --kubeconfig <path> the provider's kubeconfig, instead of the positional argument
  -h, --help              show this help
`;

export function runGrantPermission(argv: readonly string[], io: PluginIO): Promise<number> {
  return runPlugin("grantpermission", io, async () => {
    const args = parsePluginArgs(
      argv,
      {
        options: {
          group: { type: "string" },
        },
        formats: [],
        help: GRANT_HELP,
      },
      io.out,
    );
    if (!args) return;
    const { values, positionals } = args;
    const [who, plurals, kubeconfig, ...rest] = positionals;
    if (who !== "consumer" || !plurals || rest.length > 0)
      throw new UsageError("expected: consumer <plural> <provider-kubeconfig>");
    const kc = await io.loadKubeconfig({
      ...args.target,
      kubeconfig: kubeconfig ?? args.target.kubeconfig,
    });
    const wanted = plurals.split(",").filter((p) => p !== "");
    const invalid = wanted.find((p) => !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(p));
    if (invalid)
      throw new UsageError(
        `"${invalid}" is not a resource plural (lower-case, e.g. wordpressservices)`,
      );
    const all = await grantConsumerKinds(
      new ClusterIO(kc, "kubectl-kubeplus"),
      wanted,
      values.group ?? DEFAULT_GENERATED_GROUP,
    );
    io.out(
      `clusterrole.rbac.authorization.k8s.io/${AccessNames.ConsumerInstancesRole} configured: consumers may manage ${all.join(", ")}\n`,
    );
  });
}
