#!/usr/bin/env node
import { parsePluginArgs } from "../../common/args.js";
import { render, table } from "../../common/output.js";
import { runPlugin } from "../../common/plugin.js";
import { PLUGINS } from "../../install-plugins/plugins.js";

const io = {
  out: (text: string) => process.stdout.write(text),
  err: (line: string) => process.stderr.write(`${line}\n`),
  loadKubeconfig: () => Promise.reject(new Error("kubectl kubeplus commands reads no cluster")),
};

void runPlugin("kubeplus commands", io, () => {
  const args = parsePluginArgs(
    process.argv.slice(2),
    {
      options: {},
      formats: ["table", "json", "yaml"],
      help: "Usage: kubectl kubeplus commands [-o table|json|yaml]\nLists every KubePlus kubectl plugin.\n",
    },
    io.out,
  );
  if (args) {
    const data = PLUGINS.map((p) => ({ command: p.command, usage: p.usage, summary: p.summary }));
    io.out(
      render(
        args.output,
        data,
        () =>
          `${table([["COMMAND", "WHAT IT DOES"], ...PLUGINS.map((p) => [p.usage, p.summary])])}\n\nEach answers -h/--help; provider-kubeconfig --help covers the provider identity.`,
      ),
    );
  }
  return Promise.resolve();
}).then((code) => {
  process.exitCode = code;
});
