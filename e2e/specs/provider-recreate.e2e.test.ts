// The provider deleted and created again (a leaked kubeconfig's response, as docs/access.md says): instances made
// before can still be deleted, because `create` restores the provider's RoleBinding in every instance namespace.
import { execFile } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  compositionManifest,
  instanceNamespace,
  ManifestDir,
  platformNamespace,
  ROOMY_POLICY,
  serveFiles,
  sharedChart,
  startHelmer,
  tearDownPlatform,
  TestCluster,
  waitFor,
  waitForCrd,
  type RunningService,
} from "@kubeplus/testing";

const run = promisify(execFile);
const cluster = new TestCluster();
const CLI = fileURLToPath(new URL("../../cli/dist/provider-kubeconfig/main.js", import.meta.url));
const work = mkdtempSync(join(tmpdir(), "provider-recreate-"));
const manifests = new ManifestDir("provider-recreate");
const CRD = "helloworldservices.platformapi.kubeplus";
const suffix = Date.now().toString(36);
const instanceName = `keep-${suffix}`;

let kp = "";
let providerFile = "";
let helmer: RunningService | undefined;
let charts: Awaited<ReturnType<typeof serveFiles>>;

async function providerKubeconfig(
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run("node", [CLI, ...args, "-k", cluster.state.kubeconfig], {
      cwd: work,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? 1, stdout: e.stdout ?? "", stderr: e.stderr ?? "" };
  }
}

const startAsProvider = (): Promise<RunningService> =>
  startHelmer(cluster, kp, join(manifests.dir, "cache"), { KUBECONFIG: providerFile });

const helmerTail = (): string =>
  (helmer?.logs() ?? [])
    .filter((l) => Number(l.level) >= 40)
    .slice(-3)
    .map((l) => `${String(l.msg)} ${JSON.stringify(l.err ?? "").slice(0, 300)}`)
    .join("\n");

beforeAll(async () => {
  kp = await platformNamespace(cluster, "kp-recreate");
  const created = await providerKubeconfig(["create", kp]);
  expect(created.stderr).toBe("");
  providerFile = join(work, "kubeplus-saas-provider.json");
  charts = await serveFiles({
    "/hello-world-chart-0.0.3.tgz": sharedChart("hello-world-chart-0.0.3.tgz"),
  });
  helmer = await startAsProvider();
}, 180_000);

afterAll(async () => {
  await tearDownPlatform(cluster, { namespace: kp, generatedCrds: [CRD], services: [helmer] });
  await providerKubeconfig(["delete", kp]);
  await charts.close();
});

describe("the provider deleted and created again", () => {
  it("can still delete an instance made before: create restored its RoleBinding in the instance's namespace", async () => {
    const rc = compositionManifest(
      {
        name: "hello",
        namespace: kp,
        kind: "HelloWorldService",
        plural: "helloworldservices",
        chartURL: `${charts.url}/hello-world-chart-0.0.3.tgz`,
        chartName: "hello-world-chart",
      },
      ROOMY_POLICY,
    );
    const registered = await cluster.kubectl(
      ["create", "-f", manifests.write("rc", rc)],
      providerFile,
    );
    expect(registered.stderr).toBe("");
    await waitForCrd(cluster, CRD);
    const instance = {
      apiVersion: "platformapi.kubeplus/v1alpha1",
      kind: "HelloWorldService",
      metadata: { name: instanceName, namespace: kp },
      spec: { greeting: "kept", replicas: 1 },
    };
    expect(
      (await cluster.kubectl(["create", "-f", manifests.write("inst", instance)])).stderr,
    ).toBe("");
    await waitFor(
      async () =>
        (
          await cluster.kubectl([
            "get",
            "helloworldservice",
            instanceName,
            "-n",
            kp,
            "-o",
            "jsonpath={.status.conditions[?(@.type=='Ready')].status}",
          ])
        ).stdout === "True",
      {
        what: `${instanceName} to be Ready`,
        timeoutMs: 90_000,
        diagnose: () => Promise.resolve(helmerTail()),
      },
    );

    const instanceNs = await instanceNamespace(cluster, {
      plural: "helloworldservices",
      namespace: kp,
      name: instanceName,
    });
    // The administrator's response to a leaked provider kubeconfig: delete the provider, create it again.
    await helmer?.stop();
    helmer = undefined;
    const deleted = await providerKubeconfig(["delete", kp]);
    expect(deleted.stderr).toBe("");
    expect(deleted.code).toBe(0);
    // The namespace existed before the first create (its labels went with delete) and now holds the compositions
    // and instances: handing it over again is asked for explicitly.
    const recreated = await providerKubeconfig(["create", kp, "--adopt-namespace"]);
    expect(recreated.stderr).toBe("");
    expect(recreated.code).toBe(0);
    expect(recreated.stdout).toMatch(
      new RegExp(
        `Restored the provider's RoleBinding kubeplus-saas-provider-tenant in \\d+ instance namespace\\(s\\): .*\\b${instanceNs}\\b`,
      ),
    );

    // Deleted before the helmer comes back, so that its first step for the instance is the uninstall.
    await cluster.kubectl(["delete", "helloworldservice", instanceName, "-n", kp, "--wait=false"]);
    helmer = await startAsProvider();
    await waitFor(
      async () =>
        (await cluster.kubectl(["get", "helloworldservice", instanceName, "-n", kp])).code !== 0 &&
        (await cluster.kubectl(["get", "namespace", instanceNs])).code !== 0,
      {
        what: `${instanceName} and its namespace to be gone, uninstalled by the re-created provider`,
        timeoutMs: 90_000,
        diagnose: async () =>
          `${helmerTail()}\n${
            (
              await cluster.kubectl([
                "get",
                "helloworldservice",
                instanceName,
                "-n",
                kp,
                "-o",
                "jsonpath={.status.conditions}",
              ])
            ).stdout
          }`,
      },
    );
  });
});
