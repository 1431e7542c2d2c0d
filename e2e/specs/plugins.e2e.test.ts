// The everyday kubectl plugins, run as real subprocesses through kubectl's own plugin discovery against a real
// instance of the hello-world chart, released by the real helmer.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { parse, parseAllDocuments, stringify } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  compositionManifest,
  instanceNamespace,
  ROOMY_POLICY,
  waitForCrd,
  ManifestDir,
  platformNamespace,
  pluginKubectl,
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
// Where the README puts them: `make plugins` bundles into the clone's bin/plugins, under the repository's
// package.json (`"type": "module"`), and users add that folder to PATH.
const repo = fileURLToPath(new URL("../..", import.meta.url));
const pluginDir = join(repo, "bin", "plugins");
let kp = "";
/** The instances' namespaces (`<instance>-<hash of its UID>`), as the helmer reports them. */
const ns = { plug1: "", plug2: "", wp: "" };
let helmer: RunningService;
let charts: Awaited<ReturnType<typeof serveFiles>>;

const kubectl = pluginKubectl(cluster.state, pluginDir, work);

interface KubeconfigFile {
  clusters: { name: string; cluster: Record<string, unknown> }[];
  contexts: { name: string; context: { cluster: string; user: string } }[];
}
/** A cluster entry whose server is a port where nothing listens. */
const NOWHERE = { name: "nowhere", cluster: { server: "https://127.0.0.1:1" } };

async function ok(args: string[]): Promise<string> {
  const r = await kubectl(args);
  expect(r.stderr, `kubectl ${args.join(" ")}`).toBe("");
  expect(r.code).toBe(0);
  return r.stdout;
}

beforeAll(async () => {
  // What `make plugins` runs, from the clone's root, with its default folder.
  await run("node", ["cli/dist/install-plugins/main.js"], { cwd: repo });
  kp = await platformNamespace(cluster, "kpl");
  charts = await serveFiles({
    "/hello-world-chart-0.0.3.tgz": sharedChart("hello-world-chart-0.0.3.tgz"),
    "/wordpress-chart-0.0.4.tgz": sharedChart("wordpress-chart-0.0.4.tgz"),
  });
  // A short resync, so that drift correction runs while the test watches.
  helmer = await startHelmer(cluster, kp, join(manifests.dir, "cache"), { RESYNC_SECONDS: "3" });
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
  await ok(["create", "-f", manifests.write("rc", rc)]);
  await waitForCrd(cluster, "helloworldservices.platformapi.kubeplus");
  // The seed walkthrough's WordPress composition, field for field, with its chart served locally (and a quota with
  // room for its two pods once the pod policy gives each a request; see the helmer's examples test).
  const walkthrough = parse(
    readFileSync(
      fileURLToPath(new URL("../fixtures/wordpress-service-composition.yaml", import.meta.url)),
      "utf8",
    ),
  ) as {
    metadata: Record<string, unknown>;
    spec: {
      newResource: Record<string, unknown>;
      respolicy: { spec: { policy: { quota: object } } };
    };
  };
  walkthrough.metadata.namespace = kp;
  walkthrough.spec.newResource.chartURL = `${charts.url}/wordpress-chart-0.0.4.tgz`;
  walkthrough.spec.respolicy.spec.policy.quota = {
    "requests.cpu": "400m",
    "requests.memory": "4Gi",
    "limits.cpu": "1",
    "limits.memory": "8Gi",
  };
  await ok(["create", "-f", manifests.write("walkthrough", walkthrough)]);
  await waitForCrd(cluster, "wordpressservices.platformapi.kubeplus");
  await ok([
    "create",
    "-f",
    manifests.write("wp-tenant1", {
      apiVersion: "platformapi.kubeplus/v1alpha1",
      kind: "WordpressService",
      metadata: { name: "wp-tenant1", namespace: kp },
      spec: { resourceName: "wp-for-tenant1", nodeName: "kwok-node-1" },
    }),
  ]);
  for (const [name, replicas] of [
    ["plug1", 2],
    ["plug2", 1],
  ] as const)
    await ok([
      "create",
      "-f",
      manifests.write(name, {
        apiVersion: "platformapi.kubeplus/v1alpha1",
        kind: "HelloWorldService",
        metadata: { name, namespace: kp },
        spec: { greeting: "hi", replicas },
      }),
    ]);
  for (const [kind, name] of [
    ["helloworldservice", "plug1"],
    ["helloworldservice", "plug2"],
    ["wordpressservice", "wp-tenant1"],
  ] as const)
    await waitFor(
      async () =>
        (
          await kubectl([
            "get",
            kind,
            name,
            "-n",
            kp,
            "-o",
            "jsonpath={.status.conditions[?(@.type=='Ready')].status}",
          ])
        ).stdout === "True",
      { what: `${name} to be Ready`, timeoutMs: 90_000 },
    );
  ns.plug1 = await instanceNamespace(cluster, {
    plural: "helloworldservices",
    namespace: kp,
    name: "plug1",
  });
  ns.plug2 = await instanceNamespace(cluster, {
    plural: "helloworldservices",
    namespace: kp,
    name: "plug2",
  });
  ns.wp = await instanceNamespace(cluster, {
    plural: "wordpressservices",
    namespace: kp,
    name: "wp-tenant1",
  });
}, 180_000);

afterAll(async () => {
  await tearDownPlatform(cluster, {
    namespace: kp,
    generatedCrds: [
      "helloworldservices.platformapi.kubeplus",
      "wordpressservices.platformapi.kubeplus",
    ],
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

  it("the plugins run the README's way: bin/plugins on PATH inside the clone, and the tarball unpacked anywhere", async () => {
    // Inside the clone (the repository's package.json says "type": "module"), through kubectl and PATH.
    const help = await kubectl(["appresources", "--help"]);
    expect(help.stderr).toBe("");
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/appresources/);
    // The tarball unpacked under another ES-module package (the worst place): still runs, through PATH.
    const elsewhere = mkdtempSync(join(tmpdir(), "plugins-unpacked-"));
    writeFileSync(join(elsewhere, "package.json"), JSON.stringify({ type: "module" }));
    await run("tar", [
      "-xzf",
      join(repo, "bin", "kubeplus-kubectl-plugins.tar.gz"),
      "-C",
      elsewhere,
    ]);
    const unpacked = pluginKubectl(cluster.state, join(elsewhere, "plugins"), elsewhere);
    const listed = await unpacked(["plugin", "list"]);
    expect(listed.stdout).toContain(join(elsewhere, "plugins", "kubectl-appresources"));
    const fromTarball = await unpacked(["appresources", "--help"]);
    expect(fromTarball.stderr).toBe("");
    expect(fromTarball.code).toBe(0);
    expect(fromTarball.stdout).toMatch(/appresources/);
  });

  it("the README's way on the oldest Node the README names and on the current LTS: the same answers from the cluster", async () => {
    // bin/plugins first on PATH, then each Node's folder: the plugins' `#!/usr/bin/env node` picks that Node, and
    // `kubectl kubeplus version` says which one ran them.
    const { nodeOldest, nodeLts } = cluster.state.tools;
    const cliVersion = (
      JSON.parse(readFileSync(join(repo, "cli", "package.json"), "utf8")) as { version: string }
    ).version;
    const runtimes = await Promise.all(
      [nodeOldest, nodeLts].map(async (node) => ({
        node: (await run(node, ["--version"])).stdout.trim(),
        path: `${pluginDir}:${dirname(node)}`,
      })),
    );
    const pins = readFileSync(join(repo, "hack", "tools", "versions.env"), "utf8");
    const pinned = (key: string) => new RegExp(`^${key}=(\\S+)$`, "m").exec(pins)?.[1];
    expect(runtimes.map((r) => r.node)).toEqual([
      pinned("NODE_OLDEST_VERSION"),
      pinned("NODE_LTS_VERSION"),
    ]);
    const answers: string[] = [];
    for (const { node, path } of runtimes) {
      const onPath = pluginKubectl(cluster.state, path, work);
      const version = await onPath(["kubeplus", "version", "-o", "json"]);
      expect(version.stderr).toBe("");
      expect(JSON.parse(version.stdout)).toMatchObject({ plugins: `v${cliVersion}`, node });
      const rows = await onPath(["appresources", "HelloWorldService", "plug1", kp, "-o", "json"]);
      expect(rows.stderr, `appresources on Node ${node}`).toBe("");
      expect(rows.code).toBe(0);
      answers.push(rows.stdout);
    }
    expect(answers[1]).toBe(answers[0]);
    expect(JSON.parse(answers[0] ?? "[]")).toContainEqual(
      expect.objectContaining({ kind: "HelloWorldService", name: "plug1", status: "Ready" }),
    );
  });

  it("make plugins writes the krew manifest of the tarball as built: its sha256, each executable and what it needs", async () => {
    const tarball = join(repo, "bin", "kubeplus-kubectl-plugins.tar.gz");
    const docs = parseAllDocuments(
      readFileSync(join(repo, "bin", "kubeplus-kubectl-plugins.krew.yaml"), "utf8"),
    );
    expect(docs.flatMap((d) => d.errors)).toEqual([]);
    const manifests = docs.map(
      (d) =>
        d.toJS() as {
          apiVersion: string;
          kind: string;
          metadata: { name: string };
          spec: { platforms: { sha256: string; bin: string; files: { from: string }[] }[] };
        },
    );
    const sha = createHash("sha256").update(readFileSync(tarball)).digest("hex");
    const packed = (await run("tar", ["-tzf", tarball])).stdout.split("\n");
    // The executables kubectl finds in bin/plugins.
    const listed = (await kubectl(["plugin", "list"])).stdout
      .split("\n")
      .filter((l) => l.startsWith(`${pluginDir}/`))
      .map((l) => l.slice(pluginDir.length + 1));
    for (const m of manifests) {
      expect(m.apiVersion).toBe("krew.googlecontainertools.github.com/v1alpha2");
      expect(m.kind).toBe("Plugin");
      const [platform] = m.spec.platforms;
      expect(platform?.sha256).toBe(sha);
      for (const f of platform?.files ?? []) expect(packed).toContain(f.from);
      expect(listed).toContain(platform?.bin);
    }
    expect(manifests.map((m) => m.metadata.name)).toContain("appresources");
    expect(manifests.map((m) => m.spec.platforms[0]?.bin).sort()).toEqual([...listed].sort());
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
      // How to keep an instance on its chart version during the provider's upgrades (a comment: created as is).
      expect(sample).toContain('  #   kubeplus.dev/pin-chart: "<chart version>"');
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
    expect(text).toMatch(new RegExp(`${ns.plug1}\\s+Deployment\\s+\\S+\\s+2/2 ready`));
    expect(text).toMatch(
      new RegExp(`${ns.plug1}\\s+NetworkPolicy\\s+restrict-cross-ns-traffic\\s+-`),
    );
    expect(text).toMatch(new RegExp(`${ns.plug1}\\s+ResourceQuota\\s+kubeplus-quota\\s+-`));
    expect(text).toMatch(new RegExp(`${ns.plug1}\\s+LimitRange\\s+kubeplus-limits\\s+-`));
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
    expect(rows.every((r) => r.kind === "HelloWorldService" || r.namespace === ns.plug1)).toBe(
      true,
    );
  });

  it("kubectl appresources and appstatus on the walkthrough's WordPress tenant: its volume, MySQL and WordPress", async () => {
    const text = await ok(["appresources", "WordpressService", "wp-tenant1", kp]);
    expect(text.split("\n")[1]).toMatch(
      new RegExp(`^${kp}\\s+WordpressService\\s+wp-tenant1\\s+Ready$`),
    );
    expect(text).toMatch(new RegExp(`${ns.wp}\\s+PersistentVolumeClaim\\s+\\S+\\s+Bound`));
    expect(text).toMatch(new RegExp(`${ns.wp}\\s+Deployment\\s+mysql\\s+1/1 ready`));
    expect(text.match(/\sPod\s+\S+\s+Running 1\/1/g)).toHaveLength(2);
    const status = JSON.parse(
      await ok(["appstatus", "WordpressService", "wp-tenant1", kp, "-o", "json"]),
    ) as { release: string; pods: { node: string }[] };
    expect(status.release).toBe(`${ns.wp}:wordpressservice-wp-tenant1`);
    expect(status.pods.map((p) => p.node)).toEqual(["kwok-node-1", "kwok-node-1"]);
  });

  it("kubectl appstatus shows the release, conditions and pods", async () => {
    const text = await ok(["appstatus", "HelloWorldService", "plug1", "-n", kp]);
    expect(text).toContain(`HelloWorldService ${kp}/plug1`);
    expect(text).toContain(`Release: ${ns.plug1}:helloworldservice-plug1`);
    expect(text).toMatch(/Ready\s+True/);
    const data = JSON.parse(
      await ok(["appstatus", "HelloWorldService", "plug1", "-n", kp, "-o", "json"]),
    ) as { pods: { status: string; node: string }[]; release: string };
    expect(data.release).toBe(`${ns.plug1}:helloworldservice-plug1`);
    expect(data.pods.map((p) => p.status)).toEqual(["Running 1/1", "Running 1/1"]);
    expect(data.pods.every((p) => p.node !== "")).toBe(true);
  });

  it("kubectl appurl gives the NodePort on the nodes' address", async () => {
    const svc = JSON.parse(await ok(["get", "services", "-n", ns.plug1, "-o", "json"])) as {
      items: { metadata: { name: string }; spec: { ports: { nodePort: number }[] } }[];
    };
    const service = svc.items[0];
    // One URL per node address: the kwok nodes share 127.0.0.1, a real node has its own on the node fabric.
    const nodes = JSON.parse(await ok(["get", "nodes", "-o", "json"])) as {
      items: { status: { addresses: { type: string; address: string }[] } }[];
    };
    const addresses = new Set(
      nodes.items.map(
        (n) =>
          (
            n.status.addresses.find((a) => a.type === "ExternalIP") ??
            n.status.addresses.find((a) => a.type === "InternalIP")
          )?.address,
      ),
    );
    expect(addresses.size).toBeGreaterThan(0);
    const text = await ok(["appurl", "HelloWorldService", "plug1", kp]);
    expect(text.trimEnd().split("\n").sort()).toEqual(
      [...addresses]
        .map(
          (a) =>
            `http://${a ?? ""}:${service?.spec.ports[0]?.nodePort}   (Service/${service?.metadata.name})`,
        )
        .sort(),
    );
    const json = JSON.parse(
      await ok(["appurl", "HelloWorldService", "plug1", kp, "-o", "json"]),
    ) as {
      urls: { url: string }[];
    };
    expect(json.urls).toHaveLength(addresses.size);
  });

  it("kubectl applogs prints every container's log under a banner (kwok emulates the logs)", async () => {
    const pods = (await ok(["get", "pods", "-n", ns.plug1, "-o", "name"]))
      .trim()
      .split("\n")
      .map((p) => p.replace("pod/", ""))
      .sort();
    const containers = (
      await ok([
        "get",
        "pod",
        pods[0] ?? "",
        "-n",
        ns.plug1,
        "-o",
        "jsonpath={.spec.containers[*].name}",
      ])
    ).split(" ");
    const text = await ok(["applogs", "HelloWorldService", "plug1", kp]);
    const banners = text.split("\n").filter((l) => l.startsWith("===="));
    expect(banners).toEqual(
      pods.flatMap((p) => containers.map((c) => `==== Pod ${p}, container ${c} ====`)),
    );
    expect(text.match(/listening on :8080/g)).toHaveLength(banners.length);
    const one = await ok([
      "applogs",
      "HelloWorldService",
      "plug1",
      kp,
      "-c",
      containers[0] ?? "",
      "--since",
      "1000000h",
    ]);
    expect(one.split("\n").filter((l) => l.startsWith("===="))).toHaveLength(pods.length);
    // Followed: every container at once, each line prefixed (kwok ends the emulated stream after the file).
    // A followed log never ends by itself: stopped after a few seconds, as a user would with Ctrl-C.
    const followed = (
      await kubectl(["applogs", "HelloWorldService", "plug1", kp, "-f"], undefined, 4000)
    ).stdout;
    expect(followed).toContain(`[${pods[0]}/${containers[0]}] listening on :8080`);
    expect(followed.split("\n").filter(Boolean)).toHaveLength(3 * banners.length);
    const none = await kubectl(["applogs", "HelloWorldService", "plug1", kp, "-c", "nope"]);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain("no container nope in the pods of HelloWorldService plug1");
  });

  it("kubectl connections walks from the instance to its release's objects and pods", async () => {
    const json = JSON.parse(
      await ok(["connections", "HelloWorldService", "plug1", kp, "-o", "json"]),
    ) as {
      Level: number;
      Kind: string;
      Name: string;
      PeerKind: string;
      PeerName: string;
      RelationType: string;
    }[];
    const deployment = json.find(
      (c) => c.Kind === "HelloWorldService" && c.PeerKind === "Deployment",
    );
    expect(deployment).toMatchObject({ Level: 0, Name: "plug1", RelationType: "annotation" });
    expect(
      json.filter((c) => c.PeerKind === "Pod" && c.RelationType === "owner reference"),
    ).toHaveLength(2);
    expect(
      json.filter(
        (c) => c.Kind === "Service" && c.PeerKind === "Pod" && c.RelationType === "label",
      ),
    ).toHaveLength(2);
    const flat = await ok(["connections", "HelloWorldService", "plug1", kp]);
    expect(flat.split("\n")[0]).toMatch(/^LEVEL\s+KIND\s+NAME\s+PEER\s+RELATION\s+DETAILS$/);
    // The original's name for the table still works.
    expect(await ok(["connections", "HelloWorldService", "plug1", kp, "-o", "flat"])).toBe(flat);
    expect(await ok(["connections", "HelloWorldService", "plug1", kp, "-o", "dot"])).toMatch(
      /^digraph connections \{/,
    );
    // Without Graphviz on PATH (only node there): a clear message, not a crash.
    const png = await run(
      join(pluginDir, "kubectl-connections"),
      ["HelloWorldService", "plug1", kp, "-o", "png"],
      { env: { PATH: dirname(process.execPath), KUBECONFIG: cluster.state.kubeconfig } },
    ).then(
      () => ({ code: 0, stderr: "" }),
      (e: unknown) => e as { code: number; stderr: string },
    );
    expect(png.code).toBe(1);
    expect(png.stderr).toContain("needs Graphviz's dot, which is not installed");
  });

  it("kubectl upload chart stores a checked chart that a composition then uses as file:///", async () => {
    const chart = join(work, "hello-world-chart-0.0.2.tgz");
    writeFileSync(chart, sharedChart("hello-world-chart-0.0.2.tgz"));
    const out = await ok(["upload", "chart", chart, "-n", kp]);
    expect(out).toBe(
      `chart hello-world-chart 0.0.2 uploaded to ${kp}: use chartURL: file:///hello-world-chart-0.0.2.tgz\n`,
    );
    const rc = compositionManifest({
      name: "uploaded",
      namespace: kp,
      kind: "UploadedHello",
      plural: "uploadedhellos",
      chartURL: "file:///hello-world-chart-0.0.2.tgz",
      chartName: "hello-world-chart",
    });
    await ok(["create", "-f", manifests.write("uploaded-rc", rc)]);
    await waitFor(
      async () =>
        (
          await kubectl([
            "wait",
            "--for=condition=Established",
            "crd/uploadedhellos.platformapi.kubeplus",
            "--timeout=2s",
          ])
        ).code === 0,
      { what: "the CRD of the composition that uses the uploaded chart", timeoutMs: 60_000 },
    );
    await ok(["delete", "resourcecomposition", "uploaded", "-n", kp]);

    const junk = join(work, "junk.tgz");
    writeFileSync(junk, "not a chart at all");
    const refused = await kubectl(["upload", "chart", junk, "-n", kp]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^error: .*gzip/m);
    const big = join(work, "big.tgz");
    writeFileSync(big, Buffer.alloc(2 * 1024 * 1024));
    const tooBig = await kubectl(["upload", "chart", big, "-n", kp]);
    expect(tooBig.code).toBe(1);
    expect(tooBig.stderr).toContain("an uploaded chart may be at most");
  });

  it("kubectl license creates, shows and deletes a kind's license, with the original's checks", async () => {
    const file = join(work, "license.txt");
    writeFileSync(file, "ACME Corp, 2 seats\n");
    expect(
      await ok([
        "license",
        "create",
        "HelloWorldService",
        file,
        "-n",
        "2",
        "-e",
        "12/31/2099",
        "--kubeplus-namespace",
        kp,
      ]),
    ).toBe("License for HelloWorldService created.\n");
    const shown = await ok(["license", "get", "helloworldservice", "--kubeplus-namespace", kp]);
    expect(shown.split("\n")[0]).toMatch(/^KIND\s+EXPIRY\s+ALLOWED_INSTANCES\s+LICENSE_FILE$/);
    expect(shown.split("\n")[1]).toMatch(
      /^HelloWorldService\s+12\/31\/2099\s+2\s+ACME Corp, 2 seats$/,
    );
    const cm = await cluster.core.readNamespacedConfigMap({
      name: "helloworldservice-license",
      namespace: kp,
    });
    expect(cm.metadata?.annotations).toMatchObject({
      expiry: "12/31/2099",
      allowed_instances: "2",
    });
    const again = await kubectl([
      "license",
      "create",
      "HelloWorldService",
      file,
      "-n",
      "3",
      "--kubeplus-namespace",
      kp,
    ]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("exists already");
    const badDate = await kubectl([
      "license",
      "create",
      "HelloWorldService",
      file,
      "-e",
      "02/30/2030",
      "--kubeplus-namespace",
      kp,
    ]);
    expect(badDate.stderr).toContain('expiry "02/30/2030" is not a date in the form MM/DD/YYYY');
    expect(await ok(["license", "delete", "HelloWorldService", "--kubeplus-namespace", kp])).toBe(
      "License for HelloWorldService deleted.\n",
    );
    const gone = await kubectl(["license", "get", "HelloWorldService", "--kubeplus-namespace", kp]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain("no license for HelloWorldService");
  });

  it("kubectl allow/deny network traffic opens and closes two instances to each other, and the helmer keeps the opening", async () => {
    const opened = await ok(["allow", "network", "traffic", ns.plug1, ns.plug2]);
    expect(opened).toBe(
      `Traffic from and to namespace ${ns.plug2} allowed in namespace ${ns.plug1} (NetworkPolicy kubeplus-allow-${ns.plug2}).\n` +
        `Traffic from and to namespace ${ns.plug1} allowed in namespace ${ns.plug2} (NetworkPolicy kubeplus-allow-${ns.plug1}).\n`,
    );
    expect(await ok(["allow", "network", "traffic", ns.plug2, ns.plug1])).toBe(
      `Namespace ${ns.plug1} is already allowed in namespace ${ns.plug2}.\nNamespace ${ns.plug2} is already allowed in namespace ${ns.plug1}.\n`,
    );
    // Drift: the isolation policy is deleted; the helmer puts it back and leaves the opening alone.
    await ok(["delete", "networkpolicy", "restrict-cross-ns-traffic", "-n", ns.plug1]);
    await waitFor(
      async () =>
        (await kubectl(["get", "networkpolicy", "restrict-cross-ns-traffic", "-n", ns.plug1]))
          .code === 0,
      { what: "the helmer to restore the isolation policy", timeoutMs: 60_000 },
    );
    const policies = await ok(["get", "networkpolicies", "-n", ns.plug1, "-o", "name"]);
    expect(policies).toContain(`networkpolicy.networking.k8s.io/kubeplus-allow-${ns.plug2}`);
    const allowPolicy = JSON.parse(
      await ok([
        "get",
        "networkpolicy",
        `kubeplus-allow-${ns.plug2}`,
        "-n",
        ns.plug1,
        "-o",
        "json",
      ]),
    ) as {
      spec: {
        ingress: { from: { namespaceSelector: { matchLabels: Record<string, string> } }[] }[];
      };
    };
    expect(allowPolicy.spec.ingress[0]?.from[0]?.namespaceSelector.matchLabels).toEqual({
      "kubernetes.io/metadata.name": ns.plug2,
    });

    expect(await ok(["deny", "network", "traffic", ns.plug1, ns.plug2])).toBe(
      `Traffic from and to namespace ${ns.plug2} denied in namespace ${ns.plug1} (NetworkPolicy kubeplus-allow-${ns.plug2} removed).\n` +
        `Traffic from and to namespace ${ns.plug1} denied in namespace ${ns.plug2} (NetworkPolicy kubeplus-allow-${ns.plug1} removed).\n`,
    );
    expect(await ok(["deny", "network", "traffic", ns.plug1, ns.plug2])).toContain(
      `Namespace ${ns.plug2} was not allowed in namespace ${ns.plug1}.`,
    );
    const foreign = await kubectl(["allow", "network", "traffic", ns.plug1, "kube-system"]);
    expect(foreign.code).toBe(1);
    expect(foreign.stderr).toContain(
      "namespace kube-system is not an application instance's namespace",
    );
  });

  it("fails clearly: unknown kind, unknown instance, missing kubeconfig, no permission, bad output format", async () => {
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
    const stranger = (await cluster.identity("no-grants")).kubeconfig;
    const forbidden = await kubectl([
      "appresources",
      "HelloWorldService",
      "plug1",
      kp,
      "-k",
      stranger,
    ]);
    expect(forbidden.code).toBe(1);
    expect(forbidden.stderr).toBe(
      `error: this kubeconfig may not read helloworldservices in namespace ${kp}\n`,
    );
    const output = await kubectl(["appresources", "HelloWorldService", "plug1", kp, "-o", "wide"]);
    expect(output.code).toBe(2);
    expect(output.stderr).toContain('unsupported output format "wide"');
  });

  it("kubectl conventions: --context picks another context of the kubeconfig, and -k still wins over $KUBECONFIG", async () => {
    const admin = parse(readFileSync(cluster.state.kubeconfig, "utf8")) as KubeconfigFile;
    const [real] = admin.contexts;
    if (!real) throw new Error("the test cluster's kubeconfig has no context");
    // One file, two contexts; its current-context points at a port where nothing listens.
    const both = join(work, "two-contexts.kubeconfig");
    writeFileSync(
      both,
      stringify({
        ...admin,
        clusters: [...admin.clusters, NOWHERE],
        contexts: [
          ...admin.contexts,
          { name: "nowhere", context: { ...real.context, cluster: "nowhere" } },
        ],
        "current-context": "nowhere",
      }),
    );
    const byDefault = await kubectl(["appstatus", "HelloWorldService", "plug1", kp], both);
    expect(byDefault.code).toBe(1);
    expect(byDefault.stderr).toMatch(/^error: /);
    const picked = await kubectl(
      ["appstatus", "HelloWorldService", "plug1", kp, "--context", real.name],
      both,
    );
    expect(picked.stderr).toBe("");
    expect(picked.code).toBe(0);
    expect(picked.stdout).toContain(`Release: ${ns.plug1}:helloworldservice-plug1`);
    const unknown = await kubectl(
      ["appstatus", "HelloWorldService", "plug1", kp, "--context", "no-such-context"],
      both,
    );
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain(
      `error: context "no-such-context" does not exist in kubeconfig ${both} (contexts: ${real.name}, nowhere)`,
    );
    // -k/--kubeconfig takes precedence over $KUBECONFIG.
    const explicit = await kubectl(
      ["appstatus", "HelloWorldService", "plug1", kp, "-k", cluster.state.kubeconfig],
      both,
    );
    expect(explicit.stderr).toBe("");
    expect(explicit.code).toBe(0);
  });

  it("kubectl conventions: a two-file $KUBECONFIG merges as kubectl merges it (first file wins per name, first current-context)", async () => {
    const admin = parse(readFileSync(cluster.state.kubeconfig, "utf8")) as KubeconfigFile;
    const [real] = admin.contexts;
    if (!real) throw new Error("the test cluster's kubeconfig has no context");
    // The first file only names the context and makes it current; the cluster and user come from the second file,
    // whose own context of the same name (pointing nowhere) and current-context must lose.
    const first = join(work, "first.kubeconfig");
    writeFileSync(
      first,
      stringify({
        apiVersion: "v1",
        kind: "Config",
        "current-context": "tenant-view",
        contexts: [{ name: "tenant-view", context: real.context }],
      }),
    );
    const second = join(work, "second.kubeconfig");
    writeFileSync(
      second,
      stringify({
        ...admin,
        clusters: [...admin.clusters, NOWHERE],
        contexts: [{ name: "tenant-view", context: { ...real.context, cluster: "nowhere" } }],
        "current-context": "tenant-view-elsewhere",
      }),
    );
    const merged = `${first}:${second}`;
    // kubectl itself reads the pair this way.
    const kubectlView = await kubectl(
      ["config", "view", "--minify", "-o", "jsonpath={.clusters[0].name}"],
      merged,
    );
    expect(kubectlView.stdout).toBe(real.context.cluster);
    const text = await kubectl(["appresources", "HelloWorldService", "plug1", kp], merged);
    expect(text.stderr).toBe("");
    expect(text.code).toBe(0);
    expect(text.stdout.split("\n")[1]).toMatch(
      new RegExp(`^${kp}\\s+HelloWorldService\\s+plug1\\s+Ready$`),
    );
    // The other order: the second file's context (nowhere) now wins, and the plugin fails as kubectl would.
    const reversed = await kubectl(
      ["appresources", "HelloWorldService", "plug1", kp, "--context", "tenant-view"],
      `${second}:${first}`,
    );
    expect(reversed.code).toBe(1);
  });

  it("kubectl conventions: -o yaml says what -o json says, on every data plugin asked", async () => {
    for (const args of [
      ["appresources", "HelloWorldService", "plug1", kp],
      ["appstatus", "HelloWorldService", "plug1", kp],
      ["kubeplus", "commands"],
    ]) {
      const yaml = await ok([...args, "-o", "yaml"]);
      const json = await ok([...args, "-o", "json"]);
      expect(yaml.trimStart().startsWith("{")).toBe(false);
      expect(parse(yaml)).toEqual(JSON.parse(json));
    }
  });

  it("kubectl conventions: an -o format a plugin does not support, or an unknown flag, is a usage error (exit 2)", async () => {
    const cases: [string[], string][] = [
      [
        ["appresources", "HelloWorldService", "plug1", kp, "-o", "prometheus"],
        'error: unsupported output format "prometheus": this plugin supports table, json, yaml',
      ],
      [
        ["connections", "HelloWorldService", "plug1", kp, "-o", "prometheus"],
        'error: unsupported output format "prometheus": this plugin supports table, json, yaml, dot, png, html',
      ],
      [
        ["metrics", "HelloWorldService", "plug1", kp, "-o", "dot"],
        'error: unsupported output format "dot": this plugin supports table, json, yaml, prometheus',
      ],
      [
        ["upload", "chart", "x.tgz", "-o", "json"],
        "error: -o json: this plugin has no output formats",
      ],
      [
        ["appstatus", "HelloWorldService", "plug1", kp, "--watch"],
        "error: Unknown option '--watch'",
      ],
    ];
    for (const [args, message] of cases) {
      const r = await kubectl(args);
      expect(r.code, `kubectl ${args.join(" ")}`).toBe(2);
      expect(r.stdout).toBe("");
      expect(r.stderr).toContain(message);
      expect(r.stderr).toContain("--help for usage.");
    }
    const help = await ok(["appresources", "--help"]);
    expect(help).toContain("--context <name>");
    expect(help).toContain("Exit codes: 0 success; 1 a failure from the cluster");
  });
});
