// Issue 16, item 9: `provider-kubeconfig create <existing namespace> -c <consumer>` labelled any existing namespace as
// managed, after which the provider could bind itself full rights there and hold its Secrets and ServiceAccount
// tokens. Now an existing namespace that holds objects is handed over only with --adopt-namespace, and the command
// says what the provider will then hold.
import { execFile } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { platformNamespace, TestCluster } from "@kubeplus/testing";

const run = promisify(execFile);
const cluster = new TestCluster();
const CLI = fileURLToPath(
  new URL("../../../cli/dist/provider-kubeconfig/main.js", import.meta.url),
);
const work = mkdtempSync(join(tmpdir(), "namespace-adoption-"));
const suffix = Date.now().toString(36);
let kp = "";
let provider = "";
const consumers: [string, string][] = [];

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

/** A namespace an administrator uses for something else: a Secret and a ServiceAccount in it. */
async function teamNamespace(prefix: string): Promise<string> {
  const ns = await cluster.freshNamespace(prefix);
  await cluster.kubectl(["create", "secret", "generic", "db", "--from-literal=p=s3cret", "-n", ns]);
  await cluster.kubectl(["create", "serviceaccount", "ci-bot", "-n", ns]);
  return ns;
}

async function labelsOf(ns: string): Promise<Record<string, string>> {
  const r = await cluster.kubectl(["get", "namespace", ns, "-o", "jsonpath={.metadata.labels}"]);
  return JSON.parse(r.stdout || "{}") as Record<string, string>;
}

beforeAll(async () => {
  kp = await platformNamespace(cluster, "kp-adopt");
  const created = await providerKubeconfig(["create", kp]);
  expect(created.stderr).toBe("");
  provider = join(work, "kubeplus-saas-provider.json");
});

afterAll(async () => {
  for (const [ns, name] of consumers) await providerKubeconfig(["delete", ns, "-c", name]);
  await providerKubeconfig(["delete", kp]);
  await cluster.kubectl(["delete", "namespace", kp, "--wait=false"]);
});

describe("attack: taking over an existing namespace through a consumer's create", () => {
  it("refuses to label a namespace that holds a Secret and a ServiceAccount as managed, and the provider stays locked out of it", async () => {
    const ns = await teamNamespace("team");
    const before = await labelsOf(ns);
    const r = await providerKubeconfig(["create", ns, "-c", `mallory-${suffix}`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `namespace ${ns} already exists and holds 1 secrets, 1 serviceaccounts`,
    );
    expect(r.stderr).toContain("--adopt-namespace");
    expect(await labelsOf(ns)).toEqual(before);
    expect(
      (await cluster.kubectl(["get", "serviceaccount", `mallory-${suffix}`, "-n", ns])).code,
    ).not.toBe(0);
    // What the label would have opened: the provider binding itself the tenant role there, then reading the Secret.
    const bind = await cluster.kubectl(
      [
        "create",
        "rolebinding",
        "kubeplus-saas-provider-tenant",
        "-n",
        ns,
        "--clusterrole=kubeplus-saas-provider-tenant",
        `--serviceaccount=${kp}:kubeplus-saas-provider`,
      ],
      provider,
    );
    expect(bind.code).not.toBe(0);
    expect(bind.stderr).toContain("not managed by KubePlus");
    const read = await cluster.kubectl(["get", "secret", "db", "-n", ns], provider);
    expect(read.stderr).toMatch(/forbidden/i);
  });

  it("adopts it only with --adopt-namespace, saying what the provider then holds; a new namespace is simply created", async () => {
    const ns = await teamNamespace("team");
    const r = await providerKubeconfig(["create", ns, "-c", "carol", "--adopt-namespace"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    consumers.push([ns, "carol"]);
    expect(r.stdout).toContain(
      `Namespace ${ns} existed and is now managed by KubePlus: the provider may read and change everything in it (1 secrets, 1 serviceaccounts)`,
    );
    expect((await labelsOf(ns))["app.kubernetes.io/managed-by"]).toBe("kubeplus");
    const fresh = `kp-new-${suffix}`;
    const made = await providerKubeconfig(["create", fresh, "-c", "dave"]);
    expect(made.stderr).toBe("");
    expect(made.stdout).toContain(`Namespace ${fresh} created.`);
    consumers.push([fresh, "dave"]);
    await cluster.kubectl(["delete", "namespace", fresh, "--wait=false"]);
  });
});
