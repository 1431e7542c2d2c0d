import { describe, expect, it } from "vitest";
import { conventionsHelp, formatOf, parsePluginArgs } from "./args.js";
import { UsageError } from "./plugin.js";

const ignore = (): undefined => undefined;

describe("parsePluginArgs", () => {
  const spec = {
    options: { namespace: { type: "string", short: "n" } },
    formats: ["table", "json", "yaml"],
    help: "Usage: kubectl thing <x>\n",
  } as const;

  it("reads kubectl's -k/--kubeconfig, --context and -o beside the plugin's own options", () => {
    const args = parsePluginArgs(
      ["a", "--context", "other", "-k", "/tmp/kc", "-o", "yaml", "-n", "ns", "b"],
      spec,
      ignore,
    );
    expect(args?.positionals).toEqual(["a", "b"]);
    expect(args?.target).toEqual({ kubeconfig: "/tmp/kc", context: "other" });
    expect(args?.output).toBe("yaml");
    expect(args?.values.namespace).toBe("ns");
    expect(parsePluginArgs(["--context=c2"], spec, ignore)?.target.context).toBe("c2");
  });

  it("defaults -o to the plugin's first format", () => {
    expect(parsePluginArgs([], spec, ignore)?.output).toBe("table");
    expect(parsePluginArgs([], { ...spec, formats: ["json", "yaml"] }, ignore)?.output).toBe(
      "json",
    );
  });

  it("refuses a format the plugin does not support as a usage error that names the supported ones", () => {
    const run = () => parsePluginArgs(["-o", "prometheus"], spec, ignore);
    expect(run).toThrow(UsageError);
    expect(run).toThrow(
      'unsupported output format "prometheus": this plugin supports table, json, yaml',
    );
    expect(() => parsePluginArgs(["-o", "json"], { ...spec, formats: [] }, ignore)).toThrow(
      "-o json: this plugin has no output formats",
    );
  });

  it("maps the original's format names onto the shared vocabulary", () => {
    expect(formatOf("pretty", ["table", "json", "prometheus"], { pretty: "table" })).toBe("table");
    expect(formatOf("flat", ["table", "dot"], { flat: "table" })).toBe("table");
    expect(() => formatOf("pretty", ["table"])).toThrow(UsageError);
  });

  it("refuses an unknown flag with node's parse error code (a usage error, exit 2)", () => {
    let caught: unknown;
    try {
      parsePluginArgs(["--no-such-flag"], spec, ignore);
    } catch (err) {
      caught = err;
    }
    expect((caught as { code?: string }).code).toBe("ERR_PARSE_ARGS_UNKNOWN_OPTION");
  });

  it("prints the help with the shared options, the plugin's formats and the exit codes", () => {
    let printed = "";
    const args = parsePluginArgs(["-h", "-o", "nonsense"], spec, (t) => (printed += t));
    expect(args).toBeUndefined();
    expect(printed).toContain("Usage: kubectl thing <x>");
    expect(printed).toContain("--context <name>");
    expect(printed).toContain("table, json, yaml (default: table)");
    expect(printed).toContain("Exit codes: 0 success; 1 a failure from the cluster");
    expect(printed).toContain("2 a usage error");
    expect(conventionsHelp([])).toContain("none: this plugin prints no data to format");
  });
});
