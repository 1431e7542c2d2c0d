#!/usr/bin/env node
import { PLUGINS } from "../../install-plugins/plugins.js";
import { table } from "../../common/output.js";

if (process.argv.includes("-h") || process.argv.includes("--help")) {
  process.stdout.write("Usage: kubectl kubeplus commands\nLists every KubePlus kubectl plugin.\n");
} else {
  process.stdout.write(
    `${table([["COMMAND", "WHAT IT DOES"], ...PLUGINS.map((p) => [p.usage, p.summary])])}\n\nEach answers -h/--help; provider-kubeconfig --help covers the provider identity.\n`,
  );
}
