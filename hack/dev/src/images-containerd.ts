import { spawn, execFile, type ChildProcess } from "node:child_process";
import {
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { hostPlatform, imagesCacheDir } from "./images.js";
import { repoRoot } from "./paths.js";

// A containerd of a test's own, for the images tests (images*.int.test.ts): root, state and socket in a temporary
// folder, CRI disabled, the native snapshotter, runc from Debian. `ctr run` runs images with the host network; each
// test file uses a namespace of its own, so two files can run one each at the same time.

const exec = promisify(execFile);
/** The binaries a containerd of our own needs: containerd and ctr from make tools, runc from Debian. */
export interface ContainerdTools {
  readonly containerdVersion: string;
  readonly containerdBin: string;
  readonly ctrBin: string;
  readonly runcBin: string;
  /** The pinned CNCF registry (a loopback mirror in the nodes' images test). */
  readonly registryBin: string;
  readonly env: NodeJS.ProcessEnv;
}

/** Where the tools are: the *_BIN overrides, else the tools cache (hack/tools/versions.env's versions). */
export function containerdTools(env: NodeJS.ProcessEnv): ContainerdTools {
  const toolsDir = dirname(imagesCacheDir(env));
  const versions = readFileSync(join(repoRoot, "hack", "tools", "versions.env"), "utf8");
  const containerdVersion = /^CONTAINERD_VERSION=(\S+)/m.exec(versions)?.[1] ?? "v2.2.9";
  const containerdBin =
    env.CONTAINERD_BIN ?? join(toolsDir, `containerd-${containerdVersion}`, "containerd");
  const registryVersion = /^REGISTRY_VERSION=(\S+)/m.exec(versions)?.[1] ?? "v3.1.2";
  return {
    containerdVersion,
    containerdBin,
    ctrBin: env.CTR_BIN ?? join(dirname(containerdBin), "ctr"),
    runcBin: env.RUNC_BIN ?? "/usr/sbin/runc",
    registryBin: env.REGISTRY_BIN ?? join(toolsDir, `registry-${registryVersion}`, "registry"),
    env,
  };
}

export interface Containerd {
  readonly dir: string;
  readonly socket: string;
  readonly child: ChildProcess;
  /** The containerd namespace the caller's images and containers live in (runc's cgroup folder is named after it). */
  readonly namespace: string;
  readonly tools: ContainerdTools;
}

export function containerdConfig(dir: string, socket: string): string {
  const disabled = [
    "io.containerd.grpc.v1.cri",
    "io.containerd.cri.v1.images",
    "io.containerd.cri.v1.runtime",
    "io.containerd.podsandbox.controller.v1.podsandbox",
    "io.containerd.nri.v1.nri",
    "io.containerd.snapshotter.v1.overlayfs",
    "io.containerd.snapshotter.v1.btrfs",
    "io.containerd.snapshotter.v1.zfs",
    "io.containerd.snapshotter.v1.devmapper",
    "io.containerd.snapshotter.v1.blockfile",
    "io.containerd.snapshotter.v1.erofs",
  ];
  return [
    "version = 3",
    `root = "${dir}/root"`,
    `state = "${dir}/state"`,
    `disabled_plugins = [${disabled.map((p) => `"${p}"`).join(", ")}]`,
    "[grpc]",
    `  address = "${socket}"`,
    "[ttrpc]",
    `  address = "${socket}.ttrpc"`,
    "[debug]",
    '  address = ""',
    "[metrics]",
    '  address = ""',
    // The transfer service (ctr images tag, push, pull) unpacks into native: overlayfs is disabled above.
    "[plugins.'io.containerd.transfer.v1.local']",
    "  [[plugins.'io.containerd.transfer.v1.local'.unpack_config]]",
    `    platform = "linux/${hostPlatform().architecture}"`,
    '    snapshotter = "native"',
    "",
  ].join("\n");
}

/** The environment containerd and ctr run with: the tools' folders first on PATH (containerd finds its shim there). */
export const pathEnv = (tools: ContainerdTools): NodeJS.ProcessEnv => ({
  ...tools.env,
  PATH: `${dirname(tools.containerdBin)}:${dirname(tools.runcBin)}:${tools.env.PATH ?? "/usr/bin:/bin"}`,
});

export async function ctr(
  daemon: Containerd,
  args: string[],
  namespace = daemon.namespace,
): Promise<string> {
  const { stdout } = await exec(
    daemon.tools.ctrBin,
    ["--address", daemon.socket, "--namespace", namespace, ...args],
    {
      env: pathEnv(daemon.tools),
    },
  );
  return stdout;
}

/** containerd as root with its root, state and socket in a new temporary folder; CRI off, native snapshotter. */
export async function startContainerd(
  namespace: string,
  tools: ContainerdTools,
): Promise<Containerd> {
  for (const bin of [tools.containerdBin, tools.ctrBin, tools.runcBin]) {
    if (!existsSync(bin)) {
      throw new Error(
        `${bin} is missing: run make tools (containerd ${tools.containerdVersion}) and apt-get install runc`,
      );
    }
  }
  const dir = mkdtempSync(join(tmpdir(), "kp-ctrd-"));
  const socket = join(dir, "containerd.sock");
  writeFileSync(join(dir, "config.toml"), containerdConfig(dir, socket));
  const log = openSync(join(dir, "containerd.log"), "a");
  const child = spawn(tools.containerdBin, ["--config", join(dir, "config.toml")], {
    stdio: ["ignore", log, log],
    env: pathEnv(tools),
  });
  const daemon = { dir, socket, child, namespace, tools };
  for (let i = 0; i < 100; i++) {
    if (child.exitCode !== null) break;
    if (
      existsSync(socket) &&
      (await ctr(daemon, ["version"]).then(
        () => true,
        () => false,
      ))
    ) {
      return daemon;
    }
    await sleep(100);
  }
  throw new Error(
    `containerd did not start: ${readFileSync(join(dir, "containerd.log"), "utf8").slice(-2000)}`,
  );
}

/** PIDs whose command line names our folder: the shims of our containers (and containerd). */
function processesUnder(dir: string): number[] {
  return readdirSync("/proc")
    .filter((p) => /^\d+$/.test(p) && Number(p) !== process.pid)
    .filter((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, "utf8").includes(dir);
      } catch {
        return false;
      }
    })
    .map(Number);
}

export async function stopContainerd(daemon: Containerd): Promise<void> {
  const ids = (await ctr(daemon, ["containers", "ls", "-q"]).catch(() => ""))
    .split("\n")
    .filter(Boolean);
  for (const id of ids) {
    await ctr(daemon, ["tasks", "kill", "-s", "SIGKILL", id]).catch(() => "");
    await sleep(200);
    await ctr(daemon, ["tasks", "delete", "-f", id]).catch(() => "");
    await ctr(daemon, ["containers", "delete", id]).catch(() => "");
  }
  if (daemon.child.exitCode === null) {
    const exited = new Promise<boolean>((resolve) =>
      daemon.child.once("exit", () => resolve(true)),
    );
    daemon.child.kill("SIGTERM");
    if (!(await Promise.race([exited, sleep(10_000).then(() => false)])))
      daemon.child.kill("SIGKILL");
  }
  for (const pid of processesUnder(daemon.dir)) process.kill(pid, "SIGKILL");
  const mounts = readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((l) => l.split(" ")[4] ?? "")
    .filter((m) => m.startsWith(daemon.dir))
    .reverse();
  for (const m of mounts) await exec("umount", ["-l", m]).catch(() => "");
  rmSync(daemon.dir, { recursive: true, force: true });
  // runc made /sys/fs/cgroup/<controller>/<namespace>/<id>; the containers' folders are gone, ours is empty.
  for (const controller of readdirSync("/sys/fs/cgroup")) {
    const path = join("/sys/fs/cgroup", controller, daemon.namespace);
    if (existsSync(path)) await exec("rmdir", [path]).catch(() => "");
  }
}

export interface Running {
  readonly id: string;
  readonly exited: Promise<number>;
  output(): string;
  errors(): string;
}

/** `ctr run --rm` in the foreground: its stdout is the container's stdout, its exit code the container's. */
// ctr run's own order: image, container id, its flags and the command.
// eslint-disable-next-line max-params
export function runContainer(
  daemon: Containerd,
  ref: string,
  id: string,
  extra: string[],
  cmd: string[] = [],
): Running {
  const args = [
    "--address",
    daemon.socket,
    "--namespace",
    daemon.namespace,
    "run",
    "--rm",
    "--snapshotter",
    "native",
  ];
  args.push("--runc-binary", daemon.tools.runcBin, ...extra, ref, id, ...cmd);
  const child = spawn(daemon.tools.ctrBin, args, {
    stdio: ["ignore", "pipe", "pipe"],
    env: pathEnv(daemon.tools),
  });
  let out = "";
  let err = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  // stderr: the container's, and ctr's own warnings (cgroup v1 deprecation).
  child.stderr.on("data", (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number>((resolve) =>
    child.once("exit", (code) => resolve(code ?? -1)),
  );
  return { id, exited, output: () => out, errors: () => err };
}

/** The host PID of a running task (polls: `ctr run` creates the task a moment after it starts). */
export async function taskPid(daemon: Containerd, id: string): Promise<number> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const line = (await ctr(daemon, ["tasks", "ls"]))
      .split("\n")
      .find((l) => l.startsWith(`${id} `));
    const [, pid, status] = line?.trim().split(/\s+/) ?? [];
    if (status === "RUNNING" && Number(pid) > 0) return Number(pid);
    if (Date.now() > deadline) throw new Error(`task ${id} is not running`);
    await sleep(100);
  }
}

/** SIGTERM to a task; its exit code, or -2 when it has not exited within 10 s. */
export const stopTask = async (daemon: Containerd, running: Running): Promise<number> => {
  await ctr(daemon, ["tasks", "kill", "-s", "SIGTERM", running.id]);
  return Promise.race([running.exited, sleep(10_000).then(() => -2)]);
};
