#!/usr/bin/env node
import { runMetrics } from "../metrics.js";

void runMetrics(process.argv.slice(2), {
  out: (text) => process.stdout.write(text),
  err: (line) => process.stderr.write(`${line}\n`),
  loadKubeconfig: async (path) =>
    (await import("../../common/kubeconfig.js")).loadUserKubeconfig(path, process.env.KUBECONFIG),
}).then((code) => {
  process.exitCode = code;
});
