import { execFile } from "node:child_process";
import { chmod, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { basename, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { build } from "esbuild";
import { writeKrewManifest } from "./krew.js";
import { PLUGINS } from "./plugins.js";

/**
 * What tells Node that the extensionless plugin files are CommonJS. Node reads a file without an extension as its
 * nearest package.json says; inside this repository that is the root one, `"type": "module"`, and every plugin failed
 * with "require is not defined in ES module scope" (the README's own `export PATH=$PWD/bin/plugins:$PATH`). This file
 * sits next to the plugins, in the folder and in the tarball, so they run wherever they are unpacked.
 */
export const PLUGINS_PACKAGE_JSON = `${JSON.stringify(
  {
    name: "kubeplus-kubectl-plugins",
    private: true,
    type: "commonjs",
    description:
      "KubePlus kubectl plugins: put this folder on PATH (kubectl plugin list shows them)",
  },
  null,
  2,
)}\n`;

/**
 * Builds each plugin into one self-contained executable file (bundled CommonJS; the entry's node shebang stays; only Node is
 * needed) in `dir`, with a package.json that marks the folder CommonJS, and packs them into
 * kubeplus-kubectl-plugins.tar.gz beside it, as the original ships them, with the krew manifest of that tarball
 * (kubeplus-kubectl-plugins.krew.yaml, its sha256 computed here). `uri` is where a release publishes the tarball.
 */
export async function bundlePlugins(
  dir: string,
  uri?: string,
): Promise<{ files: string[]; tarball: string; krew: string }> {
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const dist = fileURLToPath(new URL("..", import.meta.url));
  const files: string[] = [];
  const { version } = JSON.parse(
    await readFile(new URL("../../package.json", import.meta.url), "utf8"),
  ) as { version: string };
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
      // Node's built-in punycode is deprecated: on Node >= 21 every plugin printed a DEP0040 warning on stderr (tr46 and
      // uri-js, under client-node and ajv, require it). The userland package of the same code is bundled instead.
      alias: { punycode: createRequire(import.meta.url).resolve("punycode/") },
      // `kubectl kubeplus version` reports the bundle's version.
      define: { "process.env.KUBEPLUS_PLUGINS_VERSION": JSON.stringify(version) },
    });
    await chmod(outfile, 0o755);
    files.push(outfile);
  }
  await writeFile(join(dir, "package.json"), PLUGINS_PACKAGE_JSON);
  const tarball = join(dirname(dir), "kubeplus-kubectl-plugins.tar.gz");
  await promisify(execFile)("tar", ["-czf", tarball, "-C", dirname(dir), basename(dir)]);
  const krew = await writeKrewManifest(
    tarball,
    join(dirname(dir), "kubeplus-kubectl-plugins.krew.yaml"),
    { uri, version, folder: basename(dir) },
  );
  return { files, tarball, krew };
}
