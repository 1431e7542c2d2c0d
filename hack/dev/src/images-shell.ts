import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, lutimesSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";

// The small I/O helpers every part of the images build uses (images.ts, images-debian.ts, images-bundle.ts).

export const run = promisify(execFile);

export class ImageBuildError extends Error {
  override readonly name = "ImageBuildError";
}

/** What a failed child process said: its stderr, else the error's message. */
export function errorText(err: unknown): string {
  const e = err as { stderr?: string; message?: string };
  const stderr = e.stderr?.trim() ?? "";
  return stderr.length > 0 ? stderr : (e.message ?? String(err));
}

/** Runs a program and returns its stdout; an ImageBuildError naming the command and its stderr when it fails. */
export async function output(
  cmd: string,
  args: readonly string[],
  env?: NodeJS.ProcessEnv,
  cwd?: string,
): Promise<string> {
  try {
    const { stdout } = await run(cmd, [...args], { env, cwd, maxBuffer: 16 << 20 });
    return stdout;
  } catch (err) {
    const e = err as { code?: unknown };
    if (e.code === "ENOENT") throw new ImageBuildError(`${cmd} is not installed or not on PATH`);
    throw new ImageBuildError(`${cmd} ${args.join(" ")} failed: ${errorText(err)}`);
  }
}

export const sha256File = (path: string): string =>
  createHash("sha256").update(readFileSync(path)).digest("hex");

/** Sets every entry's mtime to 1970-01-01 (children first), so layer tars do not depend on when we built. */
export function clampTimes(dir: string): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    if (e.isDirectory()) clampTimes(path);
    lutimesSync(path, 0, 0);
  }
  lutimesSync(dir, 0, 0);
}

export function makeDir(path: string, mode = 0o755): void {
  mkdirSync(path, { recursive: true });
  chmodSync(path, mode);
}
