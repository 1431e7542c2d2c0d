import { constants } from "node:fs";
import { access, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The name helm knows our post-renderer by (`--post-renderer kubeplus-pod-policy`). */
export const POST_RENDERER = "kubeplus-pod-policy";

/** Where `make build` puts the forwarder (services/helmer/bin), beside this package's dist folder. */
export const DEFAULT_POST_RENDER_BIN = fileURLToPath(
  new URL("../../bin/kubeplus-post-render", import.meta.url),
);

/**
 * Helm 4 runs post-renderers only as plugins: writes ours into `<pluginsDir>/kubeplus-pod-policy` (the folder
 * HELM_PLUGINS names). It runs the forwarder `bin` with the helmer's socket; helm adds the request token.
 */
export async function installPostRendererPlugin(
  pluginsDir: string,
  bin: string,
  socket: string,
): Promise<void> {
  try {
    await access(bin, constants.X_OK);
  } catch {
    throw new Error(
      `the post-render forwarder ${bin} is missing or not executable: build it with 'make build' (it needs Go), or point POST_RENDER_BIN at it`,
    );
  }
  const dir = join(pluginsDir, POST_RENDERER);
  await mkdir(dir, { recursive: true });
  const manifest = [
    "apiVersion: v1",
    "type: postrenderer/v1",
    `name: ${POST_RENDERER}`,
    "version: 0.2.0",
    "runtime: subprocess",
    "runtimeConfig:",
    "  platformCommand:",
    `    - command: ${JSON.stringify(bin)}`,
    `      args: [${JSON.stringify(socket)}]`,
    "",
  ].join("\n");
  await writeFile(join(dir, "plugin.yaml"), manifest);
}
