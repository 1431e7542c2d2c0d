import { parseArgs } from "node:util";
import type { KubeConfig } from "@kubernetes/client-node";
import { findInstance, resolveKind, type InstanceObject } from "./instances.js";
import { outputOf, type Output } from "./output.js";
import { UsageError, type PluginIO } from "./plugin.js";

/** What a `<Kind> <instance> [<namespace>]` plugin works on, once its arguments are read and the instance found. */
export interface InstanceCommand {
  readonly kc: KubeConfig;
  readonly instance: InstanceObject;
  readonly output: Output;
}

/**
 * The shared front of the instance plugins (appresources, appstatus, appurl): `-k`, `-n`, `-o`, `-h`, then the kind
 * and instance. Returns undefined after printing the help.
 */
export async function readInstanceCommand(
  argv: readonly string[],
  io: PluginIO,
  help: string,
  outputs?: readonly string[],
): Promise<InstanceCommand | undefined> {
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
    io.out(help);
    return undefined;
  }
  const [kind, name, namespace, ...rest] = positionals;
  if (!kind || !name || rest.length > 0)
    throw new UsageError("expected: <Kind> <instance> [<namespace>]");
  const output = outputOf(values.output, outputs);
  const kc = await io.loadKubeconfig(values.kubeconfig);
  const instance = await findInstance(
    kc,
    await resolveKind(kc, kind),
    name,
    namespace ?? values.namespace,
  );
  return { kc, instance, output };
}
