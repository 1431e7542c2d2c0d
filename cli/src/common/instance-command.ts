import type { KubeConfig } from "@kubernetes/client-node";
import { parsePluginArgs, type Format } from "./args.js";
import { findInstance, resolveKind, type InstanceObject } from "./instances.js";
import { UsageError, type PluginIO } from "./plugin.js";

/** What a `<Kind> <instance> [<namespace>]` plugin works on, once its arguments are read and the instance found. */
export interface InstanceCommand {
  readonly kc: KubeConfig;
  readonly instance: InstanceObject;
  readonly output: Format | undefined;
}

/**
 * The shared front of the instance plugins (appresources, appstatus, appurl, metrics): `-k`, `--context`, `-n`, `-o`,
 * `-h`, then the kind and instance. Returns undefined after printing the help.
 */
export async function readInstanceCommand(
  argv: readonly string[],
  io: PluginIO,
  help: string,
  {
    formats = ["table", "json", "yaml"],
    aliases = {},
  }: { formats?: readonly Format[]; aliases?: Readonly<Record<string, Format>> } = {},
): Promise<InstanceCommand | undefined> {
  const args = parsePluginArgs(
    argv,
    { options: { namespace: { type: "string", short: "n" } }, formats, aliases, help },
    io.out,
  );
  if (!args) return undefined;
  const [kind, name, namespace, ...rest] = args.positionals;
  if (!kind || !name || rest.length > 0)
    throw new UsageError("expected: <Kind> <instance> [<namespace>]");
  const kc = await io.loadKubeconfig(args.target);
  const instance = await findInstance(
    kc,
    await resolveKind(kc, kind),
    name,
    namespace ?? args.values.namespace,
  );
  return { kc, instance, output: args.output };
}
