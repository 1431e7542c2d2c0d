#!/usr/bin/env node
import { resolve } from "node:path";
import { bundlePlugins } from "./bundle.js";
import { installPlugins } from "./plugins.js";

// `main.js [dir]` bundles self-contained plugins (what users get); `main.js --dev [dir]` writes launchers that run
// the freshly compiled scripts (for working on the plugins).
const dev = process.argv.includes("--dev");
const dir = resolve(process.argv.slice(2).find((a) => !a.startsWith("--")) ?? "bin/plugins");
if (dev) {
  const written = await installPlugins(dir);
  process.stdout.write(`${written.length} kubectl plugin launchers in ${dir}\n`);
} else {
  const started = Date.now();
  // Where a release publishes the tarball, for the krew manifest's uri (else the local file).
  const { files, tarball, krew } = await bundlePlugins(dir, process.env.KUBEPLUS_PLUGINS_URI);
  process.stdout.write(
    `${files.length} kubectl plugins bundled into ${dir} in ${((Date.now() - started) / 1000).toFixed(1)} s, packed as ${tarball}, krew manifest ${krew}\n`,
  );
}
process.stdout.write(
  `Put them on PATH:  export PATH="${dir}:$PATH"   (kubectl plugin list shows them)\n`,
);
