#!/usr/bin/env node
import { loadUserKubeconfig } from "../../common/kubeconfig.js";
import { runAppUrl } from "../appurl.js";

process.exitCode = await runAppUrl(process.argv.slice(2), {
  out: (text) => process.stdout.write(text),
  err: (line) => process.stderr.write(`${line}\n`),
  loadKubeconfig: (path) => loadUserKubeconfig(path, process.env.KUBECONFIG),
});
