import { join } from "node:path";
import { build, version as esbuildVersion } from "esbuild";
import { ImageBuildError } from "./images-shell.js";
import { repoRoot } from "./paths.js";

// A KubePlus service as one ES module file: its compiled entry point (services/<service>/dist/main.js, from
// `tsc -b`) with every workspace library and production dependency bundled in by esbuild. Why a bundle rather than
// `pnpm deploy --prod`: the deployed node_modules of one service is 86-94 MiB (mostly @kubernetes/client-node's
// typings, maps and both module formats), its bundle 2-5 MiB, and only what the service imports is in the image.

export { esbuildVersion };

/**
 * Node's `require` for the bundled CommonJS dependencies (ws, form-data, ...) that require Node's own modules: an
 * ES module has none, and esbuild's stand-in throws "Dynamic require of ... is not supported".
 */
export const BUNDLE_BANNER =
  'import { createRequire as __kubeplusCreateRequire } from "node:module";\n' +
  "const require = __kubeplusCreateRequire(import.meta.url);";

/**
 * esbuild's options for one service: ESM for Node 20, whitespace and syntax minified (half the size) but not the
 * identifiers, so stack traces keep the functions' names; lines end by 160 characters, so the source line Node
 * prints above an uncaught error (a configuration error, say) stays one line of a log.
 */
export function bundleOptions(service: string, outfile: string): Parameters<typeof build>[0] {
  return {
    entryPoints: [join(repoRoot, "services", service, "dist", "main.js")],
    outfile,
    absWorkingDir: repoRoot,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    banner: { js: BUNDLE_BANNER },
    minifyWhitespace: true,
    minifySyntax: true,
    lineLimit: 160,
    legalComments: "eof",
    logLevel: "silent",
    write: true,
  };
}

/** Bundles services/<service>/dist/main.js into `outfile` (run `tsc -b` first: the bundle is made from dist). */
export async function bundleService(service: string, outfile: string): Promise<void> {
  try {
    const result = await build(bundleOptions(service, outfile));
    if (result.errors.length > 0) throw new Error(result.errors.map((e) => e.text).join("; "));
  } catch (err) {
    throw new ImageBuildError(
      `esbuild could not bundle services/${service}/dist/main.js (run 'make build' first): ${err instanceof Error ? err.message : String(err)}`,
    );
  }
}
