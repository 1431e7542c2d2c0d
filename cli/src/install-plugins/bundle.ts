import { execFile } from "node:child_process";
import { chmod, mkdir, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { build } from "esbuild";
import { PLUGINS } from "./plugins.js";

/**
 * Builds each plugin into one self-contained executable file (bundled CommonJS; the entry's node shebang stays; only Node is
 * needed) in `dir`, and packs them into kubeplus-kubectl-plugins.tar.gz beside it, as the original ships them.
 */
export async function bundlePlugins(dir: string): Promise<{ files: string[]; tarball: string }> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const dist = fileURLToPath(new URL("..", import.meta.url));
  const files: string[] = [];
  for (const { command, entry } of PLUGINS) {
    const outfile = join(dir, command);
    await build({
      entryPoints: [join(dist, entry)],
      outfile,
      bundle: true,
      platform: "node",
      format: "cjs",
      target: "node20",
      minify: true,
      legalComments: "none",
      logLevel: "error",
    });
    await chmod(outfile, 0o755);
    files.push(outfile);
  }
  const tarball = join(dirname(dir), "kubeplus-kubectl-plugins.tar.gz");
  await promisify(execFile)("tar", ["-czf", tarball, "-C", dirname(dir), basename(dir)]);
  return { files, tarball };
}
