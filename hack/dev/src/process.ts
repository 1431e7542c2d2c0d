import { spawn } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

/** A process the control plane started: enough to find it again, check it and stop exactly it. */
export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  readonly binary: string;
  readonly log: string;
  /** What execs `binary` (nsenter), which the PID runs for a moment first. */
  readonly launcher?: string;
}

export interface StartOptions {
  readonly name: string;
  readonly binary: string;
  readonly args: readonly string[];
  readonly logDir: string;
  readonly pidDir: string;
  readonly env?: NodeJS.ProcessEnv;
  /** A command that execs the binary, e.g. nsenter into a network namespace; the PID is then the binary's. */
  readonly prefix?: readonly string[];
}

/** Starts a component detached from this process (it outlives `up`), logging to its own file, and records its PID. */
export function startProcess(options: StartOptions): ManagedProcess {
  const log = join(options.logDir, `${options.name}.log`);
  const fd = openSync(log, "a");
  try {
    const [command = options.binary, ...prefixArgs] = options.prefix ?? [];
    const args = options.prefix ? [...prefixArgs, options.binary, ...options.args] : options.args;
    const child = spawn(command, [...args], {
      detached: true,
      stdio: ["ignore", fd, fd],
      env: options.env,
    });
    if (child.pid === undefined) throw new Error(`could not start ${options.binary}`);
    child.unref();
    writeFileSync(join(options.pidDir, `${options.name}.pid`), `${child.pid}\n`);
    return {
      name: options.name,
      pid: child.pid,
      binary: options.binary,
      log,
      ...(options.prefix?.[0] ? { launcher: options.prefix[0] } : {}),
    };
  } finally {
    closeSync(fd);
  }
}

/** True when the PID is alive and still runs the same binary (a recycled PID is not ours). */
export function isRunning(proc: Pick<ManagedProcess, "pid" | "binary" | "launcher">): boolean {
  try {
    process.kill(proc.pid, 0);
  } catch {
    return false;
  }
  const cmdline = `/proc/${proc.pid}/cmdline`;
  if (!existsSync(cmdline)) return true;
  const argv0 = readFileSync(cmdline, "utf8").split("\0")[0] ?? "";
  if (argv0 === proc.binary || (proc.launcher !== undefined && argv0 === proc.launcher))
    return true;
  // Between fork and exec the child still shows our own command line: it is starting, not gone.
  const stat = statOf(proc.pid);
  return stat?.state !== "Z" && stat?.ppid === process.pid;
}

function statOf(pid: number): { state: string; ppid: number } | undefined {
  try {
    // /proc/<pid>/stat: "pid (comm) state ppid ..."; comm may hold spaces, so read after the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const [state = "", ppid = ""] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return { state, ppid: Number(ppid) };
  } catch {
    return undefined;
  }
}

/** Stops one process by its PID: SIGTERM, then SIGKILL after `graceMs`. Returns how it ended. */
export async function stopProcess(
  proc: ManagedProcess,
  pidDir: string,
  graceMs = 10_000,
): Promise<"stopped" | "killed" | "not-running"> {
  let outcome: "stopped" | "killed" | "not-running" = "not-running";
  if (isRunning(proc)) {
    process.kill(proc.pid, "SIGTERM");
    outcome = "stopped";
    const deadline = Date.now() + graceMs;
    while (isRunning(proc) && Date.now() < deadline) await sleep(100);
    if (isRunning(proc)) {
      process.kill(proc.pid, "SIGKILL");
      outcome = "killed";
      while (isRunning(proc)) await sleep(50);
    }
  }
  await rm(join(pidDir, `${proc.name}.pid`), { force: true });
  return outcome;
}

/**
 * What a failed wait shows of a component's log (pure): its last warning and error lines (klog's `E`/`W`/`F`
 * prefixes, logrus's `level=error`, or a line that starts with an error), then its very last lines, each cut to `width` characters and
 * without repeats, so that a CI log that prints only the end of the output still says why.
 */
export function problemLines(text: string, max = 12, last = 3, width = 300): string[] {
  const lines = text
    .trimEnd()
    .split("\n")
    .filter((l) => l.trim() !== "");
  const problem =
    /^[EFW]\d{4} |level=(?:error|warn|warning|fatal|panic)\b|^\s*(?:\w*Error|error|fatal)\b/;
  const picked = [...lines.filter((l) => problem.test(l)).slice(-max), ...lines.slice(-last)];
  const seen = new Set<string>();
  return picked
    .filter((l) => !seen.has(l) && seen.add(l))
    .map((l) => (l.length > width ? `${l.slice(0, width)}…` : l));
}

/** The last `lines` lines of a log file, for error messages. */
export function tailFile(path: string, lines = 20): string {
  if (!existsSync(path)) return "(no log)";
  const text = readFileSync(path, "utf8").trimEnd().split("\n");
  return text.slice(-lines).join("\n");
}
