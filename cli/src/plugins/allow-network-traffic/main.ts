#!/usr/bin/env node
import { loadUserKubeconfig } from "../../common/kubeconfig.js";
import { runNetworkTraffic } from "../network-traffic.js";

process.exitCode = await runNetworkTraffic("allow", process.argv.slice(2), {
  out: (text) => process.stdout.write(text),
  err: (line) => process.stderr.write(`${line}\n`),
  loadKubeconfig: (path) => loadUserKubeconfig(path, process.env.KUBECONFIG),
});
