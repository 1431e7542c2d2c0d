import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildImages, IMAGES, importImages, type BuiltImage } from "./images.js";
import {
  ctr,
  containerdTools,
  runContainer,
  startContainerd,
  stopContainerd,
  stopTask,
  taskPid,
  type Containerd,
  type Running,
} from "./images-containerd.js";
import { repoRoot } from "./paths.js";

// Builds the images twice into two empty caches and compares them byte for byte, then imports them into a
// containerd of this test's own (its own root, state and socket in a temporary folder; runc from Debian) and runs
// each with `ctr run`, checking what it prints and serves. Containers use the host network and bind 127.0.0.1 only.

const env = process.env;
const sha256 = (path: string): string =>
  createHash("sha256").update(readFileSync(path)).digest("hex");
const byName = (images: readonly BuiltImage[], name: string): BuiltImage => {
  const image = images.find((i) => i.name === name);
  if (!image) throw new Error(`no image ${name} was built`);
  return image;
};

describe("images build", () => {
  let scratch = "";
  beforeAll(() => {
    scratch = mkdtempSync(join(tmpdir(), "kp-images-build-"));
  });
  afterAll(() => {
    rmSync(scratch, { recursive: true, force: true });
  });
  let first: BuiltImage[] = [];

  it("gives the same digests and the same archive bytes when built twice from the same inputs", async () => {
    first = await buildImages({ env, cacheDir: join(scratch, "a") });
    const second = await buildImages({ env, cacheDir: join(scratch, "b") });
    // Every image but the optional ones (mariadb: its two builds take minutes here; see hack/images/README.md).
    expect(first.map((i) => i.name)).toEqual(IMAGES.filter((d) => !d.optional).map((d) => d.name));
    expect([...first, ...second].every((i) => !i.cached)).toBe(true);
    const summary = (images: BuiltImage[]): string[][] =>
      images.map((i) => [i.ref, i.digest, sha256(i.archive)]);
    expect(summary(second)).toEqual(summary(first));
    expect(new Set(first.map((i) => i.archive)).size).toBe(first.length);
    for (const i of [...first, ...second]) expect(i.archive.startsWith(scratch)).toBe(true);
  }, 240_000);

  it("skips what is up to date: a second build into the same cache builds nothing", async () => {
    const again = await buildImages({ env, cacheDir: join(scratch, "a") });
    expect(again.map((i) => [i.digest, i.archive, i.cached])).toEqual(
      first.map((i) => [i.digest, i.archive, true]),
    );
  });

  it("gives another digest when a program changes", async () => {
    const original = join(scratch, "src-original");
    const changed = join(scratch, "src-changed");
    cpSync(join(repoRoot, "hack", "images"), original, { recursive: true });
    cpSync(join(repoRoot, "hack", "images"), changed, { recursive: true });
    const main = join(changed, "tenant-echo", "main.go");
    const code = readFileSync(main, "utf8");
    expect(code).toContain("fmt.Fprintln(w, tenant)");
    writeFileSync(
      main,
      code.replace("fmt.Fprintln(w, tenant)", 'fmt.Fprintln(w, "tenant:", tenant)'),
    );
    const build = (sourcesDir: string): Promise<BuiltImage[]> =>
      buildImages({ env, cacheDir: join(scratch, "c"), sourcesDir, only: ["tenant-echo"] });
    const [before] = await build(original);
    const [after] = await build(changed);
    expect(before?.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(after?.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(after?.digest).not.toBe(before?.digest);
  }, 120_000);

  it("refuses an unknown image name, listing the known ones", async () => {
    await expect(buildImages({ env, only: ["mysql"] })).rejects.toThrow(
      /unknown image mysql; the images are: pause, busybox, tenant-echo/,
    );
  });
});

// ---------------------------------------------------------------------------------------------------------------
// containerd of our own.

const NAMESPACE = "kubeplus-images-test";
const tools = containerdTools(env);

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

async function get(url: string, timeoutMs = 15_000): Promise<{ status: number; body: string }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(url);
      return { status: res.status, body: await res.text() };
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await sleep(100);
    }
  }
}

async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

const webEnv = (port: number, more: string[] = []): string[] => [
  "--net-host",
  "--env",
  "BIND=127.0.0.1",
  "--env",
  `PORT=${String(port)}`,
  ...more.flatMap((e) => ["--env", e]),
];

describe("images in a real containerd (ctr import, ctr run)", () => {
  let daemon: Containerd | undefined;
  let images: BuiltImage[] = [];
  const d = (): Containerd => {
    if (!daemon) throw new Error("containerd is not running");
    return daemon;
  };

  beforeAll(async () => {
    images = await buildImages({ env });
    daemon = await startContainerd(NAMESPACE, tools);
    await importImages({
      ctr: tools.ctrBin,
      address: daemon.socket,
      namespace: NAMESPACE,
      snapshotter: "native",
      images,
    });
  }, 300_000);

  afterAll(async () => {
    if (daemon) await stopContainerd(daemon);
  }, 60_000);

  it("imports every image under each of its references, stand-in names included", async () => {
    const listed = (await ctr(d(), ["images", "ls", "-q"])).split("\n").filter(Boolean);
    expect(listed.sort()).toEqual(images.flatMap((i) => i.refs).sort());
    expect(listed).toEqual(
      expect.arrayContaining([
        "gcr.io/cloudark-kubeplus/hello-world:latest",
        "docker.io/eminalparslan/basic-web-app:0.3.0",
        "docker.io/nginxinc/nginx-unprivileged:1.27",
      ]),
    );
  });

  it("runs busybox as uid 65532 with sh, wget and nc", async () => {
    const ref = byName(images, "busybox").ref;
    const run = runContainer(
      d(),
      ref,
      "bb",
      [],
      ["/bin/sh", "-c", "id -u; id -g; echo hello from busybox; which wget nc"],
    );
    expect(await run.exited).toBe(0);
    expect(run.output()).toMatch(/^65532\n65532\nhello from busybox\n\/bin\/wget\n\/bin\/nc\n/);
  });

  it("tenant-echo answers its tenant's name, counts requests in /metrics and sends N bytes", async () => {
    const port = await freePort();
    const ref = byName(images, "tenant-echo").ref;
    const run = runContainer(d(), ref, "echo", webEnv(port, ["TENANT=acme"]));
    try {
      const base = `http://127.0.0.1:${String(port)}`;
      expect(await get(`${base}/`)).toEqual({ status: 200, body: "acme\n" });
      await get(`${base}/`);
      const bytes = await get(`${base}/bytes?n=100000`);
      expect(bytes.body.length).toBe(100000);
      expect((await get(`${base}/bytes?n=-1`)).status).toBe(400);
      const metrics = (await get(`${base}/metrics`)).body;
      expect(metrics).toContain("# TYPE tenant_echo_requests_total counter");
      expect(metrics).toContain('tenant_echo_requests_total{tenant="acme",path="/",code="200"} 2');
      expect(metrics).toContain(
        'tenant_echo_requests_total{tenant="acme",path="/bytes",code="400"} 1',
      );
      expect(metrics).toContain('tenant_echo_info{tenant="acme",version="1.0.0"} 1');
    } finally {
      expect(await stopTask(d(), run)).toBe(0);
    }
    expect(run.output()).toMatch(/tenant-echo 1\.0\.0 listening on 127\.0\.0\.1:\d+ tenant=acme/);
    expect(run.output()).toMatch(/request path=\/bytes n=100000 from=127\.0\.0\.1:\d+ tenant=acme/);
  });

  it("nats runs the pinned nats-server as uid 65532 and answers /healthz on its monitoring port", async () => {
    const [client, monitor] = [await freePort(), await freePort()];
    const ref = byName(images, "nats").ref;
    // The chart passes `-c <file>`; flags here, to stay on 127.0.0.1 without a config mount.
    const args = ["-a", "127.0.0.1", "-p", String(client), "-m", String(monitor)];
    const run = runContainer(d(), ref, "nats", ["--net-host"], ["/nats-server", ...args]);
    try {
      const pid = await taskPid(d(), "nats");
      expect(readFileSync(`/proc/${String(pid)}/status`, "utf8")).toMatch(/^Uid:\s+65532\s/m);
      expect(await get(`http://127.0.0.1:${String(monitor)}/healthz`)).toEqual({
        status: 200,
        body: '{"status":"ok"}',
      });
      const varz = JSON.parse((await get(`http://127.0.0.1:${String(monitor)}/varz`)).body) as {
        version: string;
      };
      expect(varz.version).toBe(byName(images, "nats").version);
    } finally {
      await stopTask(d(), run);
    }
    // No shell in the image: running one fails.
    const sh = runContainer(d(), ref, "nats-sh", [], ["/bin/sh", "-c", "true"]);
    expect(await sh.exited).not.toBe(0);
  });

  it("pause runs until SIGTERM and then exits 0", async () => {
    const run = runContainer(d(), byName(images, "pause").ref, "pause", []);
    const pid = await taskPid(d(), "pause");
    expect(readFileSync(`/proc/${String(pid)}/status`, "utf8")).toMatch(/^Uid:\s+65532\s/m);
    expect(await Promise.race([run.exited, sleep(1000).then(() => "still running")])).toBe(
      "still running",
    );
    expect(await stopTask(d(), run)).toBe(0);
    expect(run.errors()).toContain("pause: shutting down, signal: terminated");
  });

  it("cpu-burner uses the CPU its cgroup allows (200m) and holds the memory it was asked to", async () => {
    const ref = byName(images, "cpu-burner").ref;
    const limits = [
      "--cpu-quota",
      "20000",
      "--cpu-period",
      "100000",
      "--env",
      "WORKERS=2",
      "--env",
      "MEMORY_MIB=48",
    ];
    const run = runContainer(d(), ref, "burn", limits);
    try {
      await until("the resident line", () =>
        run.output().includes("resident") ? true : undefined,
      );
      const pid = await taskPid(d(), "burn");
      const rssKiB = Number(
        /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${String(pid)}/status`, "utf8"))?.[1],
      );
      expect(rssKiB).toBeGreaterThanOrEqual(48 * 1024);
      const ticks = (): number => {
        const fields =
          readFileSync(`/proc/${String(pid)}/stat`, "utf8")
            .split(") ")[1]
            ?.split(" ") ?? [];
        return Number(fields[11]) + Number(fields[12]); // utime + stime, in 1/100 s
      };
      const t0 = ticks();
      const started = Date.now();
      await sleep(3000);
      const cores = (ticks() - t0) / 100 / ((Date.now() - started) / 1000);
      expect(cores).toBeGreaterThan(0.12);
      expect(cores).toBeLessThan(0.26);
    } finally {
      expect(await stopTask(d(), run)).toBe(0);
    }
    expect(run.output()).toContain("cpu-burner 1.0.0 workers=2 memory_mib=48 resident");
  }, 60_000);

  it.each([
    ["gcr.io/cloudark-kubeplus/hello-world:latest", "Hello World! from the chart\n"],
    ["docker.io/eminalparslan/basic-web-app:0.3.0", "Hello World! from the chart\n"],
  ])("the stand-in %s answers GET /", async (ref, body) => {
    const port = await freePort();
    const run = runContainer(d(), ref, "hello", webEnv(port, ["GREETING=from the chart"]));
    try {
      expect(await get(`http://127.0.0.1:${String(port)}/`)).toEqual({ status: 200, body });
    } finally {
      expect(await stopTask(d(), run)).toBe(0);
    }
  });

  it("the mysql stand-in (MariaDB) creates the database, user and init tables the chart asks for", async () => {
    const [mariadb] = await buildImages({ env, only: ["mariadb"] });
    if (!mariadb) throw new Error("mariadb was not built");
    await importImages({
      ctr: tools.ctrBin,
      address: d().socket,
      namespace: NAMESPACE,
      snapshotter: "native",
      images: [mariadb],
    });
    const initdb = join(d().dir, "initdb");
    const data = join(d().dir, "data");
    mkdirSync(initdb);
    mkdirSync(data);
    // The basicwebapp chart's mysql-initdb-config, as its ConfigMap mounts it.
    writeFileSync(
      join(initdb, "initdb.sql"),
      "CREATE TABLE users (name VARCHAR(20));\nINSERT INTO users (name) VALUES ('kulkarni');",
    );
    const port = await freePort();
    const mounts = [
      "--mount",
      `type=bind,src=${initdb},dst=/docker-entrypoint-initdb.d,options=rbind:ro`,
      "--mount",
      `type=bind,src=${data},dst=/var/lib/mysql,options=rbind:rw`,
    ];
    const server = runContainer(
      d(),
      "docker.io/library/mysql:5.6",
      "mysql",
      webEnv(port, [
        "MYSQL_ROOT_PASSWORD=toor",
        "MYSQL_USER=name123",
        "MYSQL_PASSWORD=password123",
        "MYSQL_DATABASE=usersdb",
      ]).concat(mounts),
    );
    try {
      await until(
        "mariadbd ready",
        () => (server.errors().includes("ready for connections") ? true : undefined),
        90_000,
      );
      const query = (id: string, sql: string): Running =>
        runContainer(
          d(),
          mariadb.ref,
          id,
          ["--net-host"],
          [
            "mariadb",
            "-h127.0.0.1",
            `-P${String(port)}`,
            "-uname123",
            "-ppassword123",
            "usersdb",
            "-N",
            "-e",
            sql,
          ],
        );
      const insert = query("q1", "INSERT INTO users (name) VALUES ('emin')");
      expect(await insert.exited).toBe(0);
      const select = query("q2", "SELECT name FROM users ORDER BY name");
      expect(await select.exited).toBe(0);
      expect(select.output()).toBe("emin\nkulkarni\n");
      const pid = await taskPid(d(), "mysql");
      expect(readFileSync(`/proc/${String(pid)}/status`, "utf8")).toMatch(/^Uid:\s+65532\s/m);
    } finally {
      expect(await stopTask(d(), server)).toBe(0);
    }
  }, 300_000);

  it("a registry mirror on loopback serves a stand-in under the chart's own reference (imagePullPolicy: Always)", async () => {
    // What a node's containerd does when a chart says imagePullPolicy: Always: it pulls gcr.io/... through the
    // hosts.toml of that registry, which here names only a loopback registry holding our image (no fallback).
    const port = await freePort();
    const dir = join(d().dir, "registry");
    mkdirSync(dir);
    writeFileSync(
      join(dir, "config.yml"),
      [
        "version: 0.1",
        "log: { level: warn, accesslog: { disabled: true } }",
        `storage: { filesystem: { rootdirectory: ${join(dir, "data")} } }`,
        `http: { addr: "127.0.0.1:${String(port)}" }`,
        "",
      ].join("\n"),
    );
    const registry = spawn(tools.registryBin, ["serve", join(dir, "config.yml")], {
      stdio: "ignore",
      env: { PATH: env.PATH, OTEL_TRACES_EXPORTER: "none", OTEL_SDK_DISABLED: "true" },
    });
    try {
      await get(`http://127.0.0.1:${String(port)}/v2/`);
      const mirror = `127.0.0.1:${String(port)}/cloudark-kubeplus/hello-world:latest`;
      const chartRef = "gcr.io/cloudark-kubeplus/hello-world:latest";
      await ctr(d(), ["images", "tag", chartRef, mirror]);
      await ctr(d(), ["images", "push", "--plain-http", mirror]);
      const hosts = join(d().dir, "certs.d");
      mkdirSync(join(hosts, "gcr.io"), { recursive: true });
      writeFileSync(
        join(hosts, "gcr.io", "hosts.toml"),
        [
          `server = "http://127.0.0.1:${String(port)}"`,
          `[host."http://127.0.0.1:${String(port)}"]`,
          '  capabilities = ["pull", "resolve"]',
          "",
        ].join("\n"),
      );
      const pulled = "kubeplus-images-pull";
      await ctr(
        d(),
        ["images", "pull", "--hosts-dir", hosts, "--snapshotter", "native", chartRef],
        pulled,
      );
      const listed = await ctr(d(), ["images", "ls"], pulled);
      expect(listed).toContain(chartRef);
      expect(listed).toContain(byName(images, "hello-world").digest);
    } finally {
      registry.kill("SIGTERM");
      await ctr(
        d(),
        ["images", "rm", "gcr.io/cloudark-kubeplus/hello-world:latest"],
        "kubeplus-images-pull",
      ).catch(() => "");
      await ctr(d(), ["namespaces", "rm", "kubeplus-images-pull"]).catch(() => "");
    }
  });

  it("the nginx-unprivileged stand-in serves /usr/share/nginx/html", async () => {
    const port = await freePort();
    const run = runContainer(
      d(),
      "docker.io/nginxinc/nginx-unprivileged:1.27",
      "static",
      webEnv(port),
    );
    try {
      const page = await get(`http://127.0.0.1:${String(port)}/`);
      expect(page.status).toBe(200);
      expect(page.body).toContain("<title>static-web</title>");
    } finally {
      expect(await stopTask(d(), run)).toBe(0);
    }
  });
});
