import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The name helm knows our post-renderer by (`--post-renderer kubeplus-pod-policy`). */
export const POST_RENDERER = "kubeplus-pod-policy";

/**
 * Helm 4 runs post-renderers only as plugins: writes ours into `<pluginsDir>/kubeplus-pod-policy` (the folder
 * HELM_PLUGINS names), running this Node binary on the built post-render entry point.
 */
export async function installPostRendererPlugin(pluginsDir: string): Promise<void> {
  const dir = join(pluginsDir, POST_RENDERER);
  const entry = fileURLToPath(new URL("../post-render/main.js", import.meta.url));
  await mkdir(dir, { recursive: true });
  const manifest = [
    "apiVersion: v1",
    "type: postrenderer/v1",
    `name: ${POST_RENDERER}`,
    "version: 0.1.0",
    "runtime: subprocess",
    "runtimeConfig:",
    "  platformCommand:",
    `    - command: ${JSON.stringify(process.execPath)}`,
    `      args: [${JSON.stringify(entry)}]`,
    "",
  ].join("\n");
  await writeFile(join(dir, "plugin.yaml"), manifest);
}
