#!/usr/bin/env node
import { runFleet } from "../fleet.js";

void runFleet(process.argv.slice(2), {
  out: (text) => process.stdout.write(text),
  err: (line) => process.stderr.write(`${line}\n`),
  loadKubeconfig: async (target) =>
    (await import("../../common/kubeconfig.js")).loadUserKubeconfig(target, process.env.KUBECONFIG),
}).then((code) => {
  process.exitCode = code;
});
