// Builds the console's single-page app into ../dist/web: index.html, app.js and app.css, minified, nothing inline
// (the console's Content-Security-Policy allows scripts and styles from its own origin only). `--sizes` prints the
// bundle's raw and gzip sizes. Run by `pnpm --filter @kubeplus/console build:web` (node web/build.mjs).
import { build } from "esbuild";
import { copyFile, mkdir, readFile, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "dist", "web");

await rm(out, { recursive: true, force: true });
await mkdir(out, { recursive: true });
await build({
  entryPoints: { app: join(here, "src", "main.tsx") },
  outdir: out,
  bundle: true,
  minify: true,
  format: "esm",
  target: ["es2022"],
  platform: "browser",
  jsx: "automatic",
  jsxImportSource: "preact",
  legalComments: "none",
  // Only the entry point: no chunks, no source maps served beside the app.
  splitting: false,
  sourcemap: false,
  logLevel: "warning",
  define: { "process.env.NODE_ENV": '"production"' },
});
await build({
  entryPoints: [join(here, "src", "app.css")],
  outdir: out,
  bundle: true,
  minify: true,
  logLevel: "warning",
});
await copyFile(join(here, "index.html"), join(out, "index.html"));

if (process.argv.includes("--sizes")) {
  for (const f of ["app.js", "app.css", "index.html"]) {
    const b = await readFile(join(out, f));
    console.log(`${f}\t${b.length} B raw\t${gzipSync(b, { level: 9 }).length} B gzip`);
  }
}
