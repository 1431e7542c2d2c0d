import { chmod, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** kubectl finds `kubectl-a-b` on PATH as `kubectl a b`: each plugin and the script it runs. */
export const PLUGINS: readonly { command: string; entry: string }[] = [
  { command: "kubectl-retrieve-kubeconfig", entry: "plugins/retrieve-kubeconfig/main.js" },
  { command: "kubectl-grantpermission", entry: "plugins/grantpermission/main.js" },
  {
    command: "kubectl-show-provider-permissions",
    entry: "plugins/show-provider-permissions/main.js",
  },
];

/** Writes one small launcher per plugin into `dir` (put it on PATH); they run the built scripts with node. */
export async function installPlugins(dir: string): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const dist = fileURLToPath(new URL("..", import.meta.url));
  const written: string[] = [];
  for (const { command, entry } of PLUGINS) {
    const file = join(dir, command);
    await writeFile(file, `#!/bin/sh\nexec node "${join(dist, entry)}" "$@"\n`);
    await chmod(file, 0o755);
    written.push(file);
  }
  return written;
}
