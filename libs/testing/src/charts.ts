import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { repoRoot } from "@kubeplus/dev";

/**
 * The folder of the real charts from the original KubePlus examples (kept beside the repository, never committed):
 * $KUBEPLUS_SHARED_CHARTS, else <repo>/../shared/charts. Tests that need them fail loudly when it is missing.
 */
export function sharedChartsDir(env: NodeJS.ProcessEnv = process.env): string {
  const candidates = [
    env.KUBEPLUS_SHARED_CHARTS,
    resolve(repoRoot, "..", "shared", "charts"),
  ].filter((c): c is string => typeof c === "string" && c !== "");
  const found = candidates.find((c) => existsSync(c));
  if (!found) {
    throw new Error(
      `the shared example charts were not found (looked in: ${candidates.join(", ")}); set KUBEPLUS_SHARED_CHARTS to the folder holding wordpress-chart-0.0.4.tgz and the other example charts`,
    );
  }
  return found;
}

export function sharedChartPath(file: string): string {
  const path = join(sharedChartsDir(), file);
  if (!existsSync(path))
    throw new Error(`shared chart ${file} is missing from ${sharedChartsDir()}`);
  return path;
}

export function sharedChart(file: string): Buffer {
  return readFileSync(sharedChartPath(file));
}

/** One of our own example charts (`examples/charts/<name>`), packaged by the pinned helm: its archive's bytes. */
export function exampleChart(helmBin: string, name: string, version = "0.1.0"): Buffer {
  const out = mkdtempSync(join(tmpdir(), "example-chart-"));
  execFileSync(helmBin, ["package", join(repoRoot, "examples", "charts", name), "-d", out]);
  return readFileSync(join(out, `${name}-${version}.tgz`));
}
