import { parseArgs, type ParseArgsConfig } from "node:util";
import { UsageError } from "./plugin.js";

/**
 * The one `-o` vocabulary of the plugins: table, json and yaml where the output is data, plus the extra formats where
 * they make sense (prometheus for metrics; dot, png and html for connections).
 */
export const FORMATS = ["table", "json", "yaml", "prometheus", "dot", "png", "html"] as const;
export type Format = (typeof FORMATS)[number];

/** The exit codes every plugin keeps (documented in cli/README.md and each --help). */
export const ExitCode = {
  Ok: 0,
  /** The cluster refused or failed, or what was asked for does not exist. */
  Failure: 1,
  /** A mistake in how the plugin was called: unknown flag, missing argument, unsupported -o format. */
  Usage: 2,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

type ParseArgsOptionsConfig = NonNullable<ParseArgsConfig["options"]>;

/** The values parseArgs gives for `O` (no option here is `multiple`). */
export type PluginValues<O extends ParseArgsOptionsConfig> = {
  -readonly [K in keyof O]?: O[K] extends { type: "boolean" } ? boolean : string;
};

/** The options every plugin takes, as kubectl spells them. */
export const KUBECTL_OPTIONS = {
  kubeconfig: { type: "string", short: "k" },
  context: { type: "string" },
  output: { type: "string", short: "o" },
  help: { type: "boolean", short: "h" },
} as const satisfies ParseArgsOptionsConfig;

/** What each plugin says at the end of its --help: the shared options, its -o formats and the exit codes. */
export function conventionsHelp(formats: readonly Format[]): string {
  return `
Every KubePlus plugin also takes, as kubectl does:
  -k, --kubeconfig <path>   the kubeconfig (default: $KUBECONFIG, its files merged as kubectl merges them,
                            else ~/.kube/config)
      --context <name>      the kubeconfig context to use (default: its current-context)
  -o, --output <format>     ${formats.length > 0 ? `${formats.join(", ")} (default: ${formats[0]})` : "none: this plugin prints no data to format"}

Exit codes: 0 success; 1 a failure from the cluster, or what was asked for was not found; 2 a usage error (an
unknown flag, a missing argument, an -o format this plugin does not support).
`;
}

/**
 * Checks an -o value against the formats a plugin supports (the first is its default). `aliases` maps the original's
 * names (metrics' `pretty`, connections' `flat`) onto the shared vocabulary. An unsupported format is a usage error
 * (exit 2) that names the supported ones.
 */
export function formatOf(
  value: string | undefined,
  formats: readonly Format[],
  aliases: Readonly<Record<string, Format>> = {},
): Format | undefined {
  if (value === undefined) return formats[0];
  const format = aliases[value] ?? value;
  if ((formats as readonly string[]).includes(format)) return format as Format;
  throw new UsageError(
    formats.length === 0
      ? `-o ${value}: this plugin has no output formats (it prints no data to format)`
      : `unsupported output format "${value}": this plugin supports ${formats.join(", ")}`,
  );
}

export interface PluginArgsSpec<O extends ParseArgsOptionsConfig> {
  /** The plugin's own options, beside -k/--kubeconfig, --context, -o/--output and -h/--help. */
  readonly options: O;
  /** The -o formats it supports, its default first; empty when it prints no data. */
  readonly formats: readonly Format[];
  readonly aliases?: Readonly<Record<string, Format>>;
  /** The plugin's help; the shared conventions are appended. */
  readonly help: string;
}

/** A plugin's arguments, read. */
export interface PluginArgs<O extends ParseArgsOptionsConfig> {
  readonly values: PluginValues<typeof KUBECTL_OPTIONS & O>;
  readonly positionals: string[];
  /** The -o format (the plugin's default when none is given; undefined when it has none). */
  readonly output: Format | undefined;
  /** What io.loadKubeconfig takes. */
  readonly target: { kubeconfig?: string | undefined; context?: string | undefined };
}

/**
 * Reads a plugin's arguments the kubectl way. Returns undefined after printing the help (with the shared options, the
 * -o formats and the exit codes appended). Unknown flags and unsupported formats are usage errors (exit 2), checked
 * before anything talks to the cluster.
 */
export function parsePluginArgs<O extends ParseArgsOptionsConfig>(
  argv: readonly string[],
  spec: PluginArgsSpec<O>,
  out: (text: string) => void,
): PluginArgs<O> | undefined {
  const parsed = parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: { ...KUBECTL_OPTIONS, ...spec.options },
  });
  const values = parsed.values as PluginValues<typeof KUBECTL_OPTIONS & O>;
  const common = parsed.values as PluginValues<typeof KUBECTL_OPTIONS>;
  if (common.help) {
    out(`${spec.help.trimEnd()}\n${conventionsHelp(spec.formats)}`);
    return undefined;
  }
  const output = formatOf(common.output, spec.formats, spec.aliases);
  return {
    values,
    positionals: parsed.positionals,
    output,
    target: { kubeconfig: common.kubeconfig, context: common.context },
  };
}
