#!/usr/bin/env node
import { resolve } from "node:path";
import { installPlugins } from "./plugins.js";

const dir = resolve(process.argv[2] ?? "bin/plugins");
const written = await installPlugins(dir);
process.stdout.write(
  `${written.length} kubectl plugins in ${dir}; add it to PATH:\n  export PATH="${dir}:$PATH"\n`,
);
