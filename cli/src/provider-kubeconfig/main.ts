#!/usr/bin/env node
import { loadUserKubeconfig } from "../common/kubeconfig.js";
import { runProviderKubeconfig } from "./run.js";

const code = await runProviderKubeconfig(process.argv.slice(2), {
  cwd: process.cwd(),
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  loadKubeconfig: (path) => loadUserKubeconfig(path, process.env.KUBECONFIG),
});
process.exitCode = code;
