// The everyday kubectl plugins, run as real subprocesses through kubectl's own plugin discovery against a real
// instance of the hello-world chart, released by the real helmer.
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { parse } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  compositionManifest,
  ManifestDir,
  platformNamespace,
  serveFiles,
  sharedChart,
  startHelmer,
  tearDownPlatform,
  TestCluster,
  waitFor,
  type RunningService,
} from "@kubeplus/testing";

const run = promisify(execFile);
const cluster = new TestCluster();
const manifests = new ManifestDir("plugins");
const work = mkdtempSync(join(tmpdir(), "plugins-"));
const pluginDir = join(work, "bin");
let kp = "";
let helmer: RunningService;
let charts: Awaited<ReturnType<typeof serveFiles>>;

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

async function kubectl(args: string[], kubeconfig = cluster.state.kubeconfig): Promise<Result> {
  try {
    const { stdout, stderr } = await run(cluster.state.tools.kubectl, args, {
      cwd: work,
      env: {
        ...process.env,
        PATH: `${pluginDir}:${process.env.PATH ?? ""}`,
        KUBECONFIG: kubeconfig,
      },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? 1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

async function ok(args: string[]): Promise<string> {
  const r = await kubectl(args);
  expect(r.stderr, `kubectl ${args.join(" ")}`).toBe("");
  expect(r.code).toBe(0);
  return r.stdout;
}

beforeAll(async () => {
  await run("node", [
    fileURLToPath(new URL("../../cli/dist/install-plugins/main.js", import.meta.url)),
    pluginDir,
  ]);
  kp = await platformNamespace(cluster, "kpl");
  charts = await serveFiles({
    "/hello-world-chart-0.0.3.tgz": sharedChart("hello-world-chart-0.0.3.tgz"),
  });
  helmer = await startHelmer(cluster, kp, join(manifests.dir, "cache"));
  const rc = compositionManifest(
    {
      name: "hello",
      namespace: kp,
      kind: "HelloWorldService",
      plural: "helloworldservices",
      chartURL: `${charts.url}/hello-world-chart-0.0.3.tgz`,
      chartName: "hello-world-chart",
    },
    {
      respolicy: {
        spec: {
          policy: {
            podconfig: {
              requests: { cpu: "100m", memory: "64Mi" },
              limits: { cpu: "200m", memory: "128Mi" },
            },
            quota: {
              "requests.cpu": "1",
              "requests.memory": "1Gi",
              "limits.cpu": "2",
              "limits.memory": "2Gi",
            },
          },
        },
      },
    },
  );
  await ok(["create", "-f", manifests.write("rc", rc)]);
  await waitFor(
    async () =>
      (
        await kubectl([
          "wait",
          "--for=condition=Established",
          "crd/helloworldservices.platformapi.kubeplus",
          "--timeout=2s",
        ])
      ).code === 0,
    { what: "the HelloWorldService CRD", timeoutMs: 60_000 },
  );
  await ok([
    "create",
    "-f",
    manifests.write("app", {
      apiVersion: "platformapi.kubeplus/v1alpha1",
      kind: "HelloWorldService",
      metadata: { name: "plug1", namespace: kp },
      spec: { greeting: "hi", replicas: 2 },
    }),
  ]);
  await waitFor(
    async () =>
      (
        await kubectl([
          "get",
          "helloworldservice",
          "plug1",
          "-n",
          kp,
          "-o",
          "jsonpath={.status.conditions[?(@.type=='Ready')].status}",
        ])
      ).stdout === "True",
    { what: "plug1 to be Ready", timeoutMs: 90_000 },
  );
}, 180_000);

afterAll(async () => {
  await tearDownPlatform(cluster, {
    namespace: kp,
    generatedCrds: ["helloworldservices.platformapi.kubeplus"],
    services: [helmer],
  });
  await charts.close();
});

describe("kubectl plugins", () => {
  it("kubectl plugin list and kubectl kubeplus commands show every plugin", async () => {
    const listed = await kubectl(["plugin", "list"]);
    const commands = await ok(["kubeplus", "commands"]);
    for (const name of ["appresources", "appstatus", "man", "retrieve-kubeconfig"]) {
      expect(listed.stdout).toContain(`kubectl-${name}`);
    }
    expect(commands.split("\n")[0]).toMatch(/^COMMAND\s+WHAT IT DOES$/);
    expect(commands).toContain("kubectl appresources <Kind> <instance> [<namespace>]");
    expect(commands).toContain("kubectl man <Kind>");
  });

  it("kubectl man prints a sample a user can create as it is", async () => {
    // The provider reads the sample the helmer stored; an identity that may not read it gets one built from the
    // published schema. Both say the same and both can be created as they are.
    const stranger = (await cluster.identity("man-reader")).kubeconfig;
    for (const kubeconfig of [cluster.state.kubeconfig, stranger]) {
      const r = await kubectl(["man", "HelloWorldService", "-k", kubeconfig]);
      expect(r.stderr).toBe("");
      const sample = r.stdout;
      expect(sample).toContain('# greeting (string): Chart default: "Hello World!"');
      expect(sample).toContain("  replicas: 1");
      const doc = parse(sample) as { kind: string; spec: Record<string, unknown> };
      expect(doc.kind).toBe("HelloWorldService");
      expect(doc.spec).toEqual({ greeting: "Hello World!", replicas: 1 });
      const file = join(work, "sample.yaml");
      writeFileSync(file, sample);
      await ok(["create", "-f", file, "-n", kp, "--dry-run=server"]);
    }
  });

  it("kubectl appresources lists the instance, its release in order, its pods and its fences", async () => {
    const text = await ok(["appresources", "HelloWorldService", "plug1", kp]);
    const lines = text.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^NAMESPACE\s+KIND\s+NAME\s+STATUS$/);
    expect(lines[1]).toMatch(new RegExp(`^${kp}\\s+HelloWorldService\\s+plug1\\s+Ready$`));
    expect(text).toMatch(/plug1\s+Deployment\s+\S+\s+2\/2 ready/);
    expect(text).toMatch(/plug1\s+NetworkPolicy\s+restrict-cross-ns-traffic\s+-/);
    expect(text).toMatch(/plug1\s+ResourceQuota\s+kubeplus-quota\s+-/);
    expect(text).toMatch(/plug1\s+LimitRange\s+kubeplus-limits\s+-/);
    expect(text.match(/\sPod\s+\S+\s+Running 1\/1/g)).toHaveLength(2);

    const rows = JSON.parse(
      await ok(["appresources", "HelloWorldService", "plug1", kp, "-o", "json"]),
    ) as { namespace: string; kind: string; name: string; status: string }[];
    expect(rows[0]).toEqual({
      namespace: kp,
      kind: "HelloWorldService",
      name: "plug1",
      status: "Ready",
    });
    expect(rows.filter((r) => r.kind === "Pod")).toHaveLength(2);
    expect(rows.every((r) => r.kind === "HelloWorldService" || r.namespace === "plug1")).toBe(true);
  });

  it("kubectl appstatus shows the release, conditions and pods", async () => {
    const text = await ok(["appstatus", "HelloWorldService", "plug1", "-n", kp]);
    expect(text).toContain(`HelloWorldService ${kp}/plug1`);
    expect(text).toContain("Release: plug1:helloworldservice-plug1");
    expect(text).toMatch(/Ready\s+True/);
    const data = JSON.parse(
      await ok(["appstatus", "HelloWorldService", "plug1", "-n", kp, "-o", "json"]),
    ) as { pods: { status: string; node: string }[]; release: string };
    expect(data.release).toBe("plug1:helloworldservice-plug1");
    expect(data.pods.map((p) => p.status)).toEqual(["Running 1/1", "Running 1/1"]);
    expect(data.pods.every((p) => p.node !== "")).toBe(true);
  });

  it("fails clearly: unknown kind, unknown instance, missing kubeconfig, bad output format", async () => {
    const kind = await kubectl(["appresources", "NoSuchService", "x", kp]);
    expect(kind.code).toBe(1);
    expect(kind.stdout).toBe("");
    expect(kind.stderr).toContain('unknown kind "NoSuchService"');
    const name = await kubectl(["appstatus", "HelloWorldService", "nope", kp]);
    expect(name.code).toBe(1);
    expect(name.stderr).toContain(`no HelloWorldService named nope in namespace ${kp}`);
    const config = await kubectl(["man", "HelloWorldService", "-k", "/nonexistent/kubeconfig"]);
    expect(config.code).toBe(1);
    expect(config.stderr).toContain("kubeconfig /nonexistent/kubeconfig does not exist");
    const output = await kubectl(["appresources", "HelloWorldService", "plug1", kp, "-o", "wide"]);
    expect(output.code).toBe(1);
    expect(output.stderr).toContain('unknown output format "wide"');
  });
});
