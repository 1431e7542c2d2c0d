// Third-party servers a test starts on loopback from the pinned tools: the CNCF distribution registry (oci:// charts)
// and Prometheus (scraping the metrics-collector). Each runs as a child process, stopped by its PID.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { stringify } from "yaml";
import type { ClusterState } from "@kubeplus/dev";
import { freePort } from "./platform.js";
import { waitFor } from "./wait.js";

const execFileAsync = promisify(execFile);

/** A server process a test started; `stop()` ends it (SIGTERM, then SIGKILL). */
export interface TestServer {
  /** `127.0.0.1:<port>` */
  readonly host: string;
  readonly url: string;
  readonly dir: string;
  output(): string;
  stop(): Promise<void>;
}

async function startProcess(
  what: string,
  binary: string,
  args: readonly string[],
  opts: { port: number; dir: string; readyPath: string; env?: NodeJS.ProcessEnv },
): Promise<TestServer> {
  const child: ChildProcess = spawn(binary, [...args], {
    env: { PATH: process.env.PATH, HOME: opts.dir, ...opts.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout?.on("data", (c: Buffer) => (out += c.toString()));
  child.stderr?.on("data", (c: Buffer) => (out += c.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const host = `127.0.0.1:${String(opts.port)}`;
  const url = `http://${host}`;
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
    await exited;
    clearTimeout(timer);
  };
  try {
    await waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`${what} exited early:\n${out.slice(-2000)}`);
        const res = await fetch(`${url}${opts.readyPath}`).catch(() => undefined);
        return res?.ok === true;
      },
      { what: `${what} to answer on ${url}`, timeoutMs: 30_000, diagnose: () => out.slice(-2000) },
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return { host, url, dir: opts.dir, output: () => out, stop };
}

/** The CNCF distribution registry on a loopback port, plain HTTP, storing blobs in a temp folder. */
export async function startRegistry(state: ClusterState): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), "registry-"));
  const port = await freePort();
  const config = join(dir, "config.yml");
  writeFileSync(
    config,
    stringify({
      version: 0.1,
      log: { level: "warn", accesslog: { disabled: true } },
      storage: { filesystem: { rootdirectory: join(dir, "data") }, delete: { enabled: true } },
      http: { addr: `127.0.0.1:${String(port)}` },
    }),
  );
  return startProcess("the OCI registry", state.tools.registry, ["serve", config], {
    port,
    dir,
    readyPath: "/v2/",
    // No telemetry exporter: nothing leaves the machine.
    env: { OTEL_TRACES_EXPORTER: "none", OTEL_SDK_DISABLED: "true" },
  });
}

/** `helm push <archive> oci://<registry>/<repository> --plain-http`; returns the pushed reference's digest line. */
export async function pushChart(
  state: ClusterState,
  registry: TestServer,
  archive: string,
  repository: string,
): Promise<string> {
  const home = join(registry.dir, "helm-home");
  const { stdout, stderr } = await execFileAsync(
    state.tools.helm,
    ["push", archive, `oci://${registry.host}/${repository}`, "--plain-http"],
    {
      env: {
        PATH: process.env.PATH,
        HOME: home,
        HELM_CONFIG_HOME: join(home, "config"),
        HELM_CACHE_HOME: join(home, "cache"),
        HELM_DATA_HOME: join(home, "data"),
      },
    },
  );
  return `${stdout}${stderr}`;
}

/** Prometheus on a loopback port scraping `targets` (host:port, path /metrics) every `intervalSeconds`. */
export async function startPrometheus(
  state: ClusterState,
  targets: readonly string[],
  intervalSeconds = 1,
): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), "prometheus-"));
  const port = await freePort();
  const config = join(dir, "prometheus.yml");
  writeFileSync(
    config,
    stringify({
      global: {
        scrape_interval: `${String(intervalSeconds)}s`,
        evaluation_interval: `${String(intervalSeconds)}s`,
      },
      // honor_labels: the collector's own `instance` label (the KubePlus instance) wins over the target's.
      scrape_configs: [
        { job_name: "kubeplus", honor_labels: true, static_configs: [{ targets: [...targets] }] },
      ],
    }),
  );
  return startProcess(
    "Prometheus",
    state.tools.prometheus,
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${String(port)}`,
      "--log.level=warn",
    ],
    { port, dir, readyPath: "/-/ready" },
  );
}
