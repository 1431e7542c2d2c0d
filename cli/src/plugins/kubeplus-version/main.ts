#!/usr/bin/env node
import { parsePluginArgs } from "../../common/args.js";
import { render, table } from "../../common/output.js";
import { runPlugin } from "../../common/plugin.js";
import { pluginsVersion } from "../../common/version.js";

const io = {
  out: (text: string) => process.stdout.write(text),
  err: (line: string) => process.stderr.write(`${line}\n`),
  loadKubeconfig: () => Promise.reject(new Error("kubectl kubeplus version reads no cluster")),
};

void runPlugin("kubeplus version", io, () => {
  const args = parsePluginArgs(
    process.argv.slice(2),
    {
      options: {},
      formats: ["table", "json", "yaml"],
      help: "Usage: kubectl kubeplus version [-o table|json|yaml]\nThe plugins' version and the Node.js that runs them (what a bug report needs).\n",
    },
    io.out,
  );
  if (args) {
    const data = pluginsVersion(process.version, process.env.KUBEPLUS_PLUGINS_VERSION);
    io.out(
      render(args.output, data, () =>
        table([
          ["PLUGINS", "NODE", "NODE REQUIRED"],
          [data.plugins, data.node, data.nodeRequired],
        ]),
      ),
    );
  }
  return Promise.resolve();
}).then((code) => {
  process.exitCode = code;
});
