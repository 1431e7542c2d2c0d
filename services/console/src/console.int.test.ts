// The console against a real apiserver, with two consumers' own kubeconfigs and no credential of the console's own
// (its process has no kubeconfig at all): sign-in, the catalog from each user's own rules, changes through the
// passthrough with and without the CSRF token, a live watch, one tenant's forged request for another's instance
// refused by the apiserver, sign-out, and a revoked credential ending its session.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildCustomResourceDefinition } from "@kubeplus/api";
import {
  AccessNames,
  ClusterIO,
  deleteIdentity,
  grantConsumerKinds,
  issueKubeconfig,
  setUpConsumer,
  setUpProvider,
  type IdentityRef,
} from "@kubeplus/access";
import {
  ManifestDir,
  platformNamespace,
  startConsole,
  TestCluster,
  waitFor,
  type RunningService,
} from "@kubeplus/testing";

const cluster = new TestCluster();
const io = new ClusterIO(cluster.kc, "test");
const manifests = new ManifestDir("console");
const GROUP = "platformapi.kubeplus";
const KIND = "ConsoleTestService";
const PLURAL = "consoletestservices";
const CRD = `${PLURAL}.${GROUP}`;
const suffix = Date.now().toString(36);
const teamA = `team-a-${suffix}`;
const teamB = `team-b-${suffix}`;
let kp = "";
let provider: IdentityRef;
let console_: (RunningService & { url: string }) | undefined;
let base = "";
const kubeconfigs: Record<"alice" | "bob" | "carol", string> = { alice: "", bob: "", carol: "" };

interface Answer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

/** A browser-like client of the console: keeps the session cookie, sends the CSRF token when told. */
class Client {
  cookie = "";
  csrf = "";

  async call(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Answer> {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: {
        ...(this.cookie ? { cookie: this.cookie } : {}),
        ...(body === undefined ? {} : { "content-type": "application/json" }),
        ...headers,
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    let parsed: Record<string, unknown>;
    try {
      parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {
      parsed = { text };
    }
    return { status: res.status, headers: res.headers, body: parsed };
  }

  async signIn(kubeconfig: string): Promise<Answer> {
    const answer = await this.call("POST", "/api/session", { kubeconfig });
    const setCookie = answer.headers.get("set-cookie") ?? "";
    this.cookie = setCookie.split(";")[0] ?? "";
    this.csrf = typeof answer.body.csrfToken === "string" ? answer.body.csrfToken : "";
    return answer;
  }

  change(method: string, path: string, body?: unknown): Promise<Answer> {
    return this.call(method, path, body, { "x-csrf-token": this.csrf });
  }
}

const instancesPath = (ns: string, name = ""): string =>
  `/api/k8s/apis/${GROUP}/v1alpha1/namespaces/${ns}/${PLURAL}${name ? `/${name}` : ""}`;
const instance = (ns: string, name: string, greeting: string): Record<string, unknown> => ({
  apiVersion: `${GROUP}/v1alpha1`,
  kind: KIND,
  metadata: { name, namespace: ns },
  spec: { greeting, replicas: 1 },
});

async function kubeconfigFor(ref: IdentityRef): Promise<string> {
  const issued = await issueKubeconfig(io, ref, { clusterName: "prod", durationSeconds: 3600 });
  // The server a tenant's kubeconfig names is never used by the console: point it nowhere.
  const config = issued.config as { clusters: { cluster: { server: string } }[] };
  for (const c of config.clusters) c.cluster.server = "https://127.0.0.1:1";
  return JSON.stringify(config);
}

beforeAll(async () => {
  kp = await platformNamespace(cluster, "console");
  provider = { namespace: kp, serviceAccount: AccessNames.Provider };
  await setUpProvider(io, provider, []);
  const crd = buildCustomResourceDefinition({
    group: GROUP,
    version: "v1alpha1",
    kind: KIND,
    plural: PLURAL,
    description: "Instances of the 'console-test' chart, one isolated tenant each",
    spec: {
      type: "object",
      required: ["greeting"],
      properties: {
        greeting: { type: "string", description: "What the page says" },
        replicas: { type: "integer", minimum: 1, maximum: 3, default: 1 },
      },
    },
    status: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
  });
  const applied = await cluster.kubectl([
    "apply",
    "--server-side",
    "-f",
    manifests.write("crd", crd),
  ]);
  expect(applied.stderr).toBe("");
  await cluster.kubectl(["wait", "--for=condition=Established", `crd/${CRD}`, "--timeout=60s"]);
  await grantConsumerKinds(io, [PLURAL], GROUP);
  await setUpConsumer(io, { namespace: teamA, serviceAccount: "alice" });
  await setUpConsumer(io, { namespace: teamB, serviceAccount: "bob" });
  await setUpConsumer(io, { namespace: teamB, serviceAccount: "carol" });
  kubeconfigs.alice = await kubeconfigFor({ namespace: teamA, serviceAccount: "alice" });
  kubeconfigs.bob = await kubeconfigFor({ namespace: teamB, serviceAccount: "bob" });
  kubeconfigs.carol = await kubeconfigFor({ namespace: teamB, serviceAccount: "carol" });

  const web = mkdtempSync(join(tmpdir(), "console-web-"));
  writeFileSync(
    join(web, "index.html"),
    "<!doctype html><title>KubePlus console</title><script src=/app.js></script>",
  );
  console_ = await startConsole(cluster, { webDir: web });
  base = console_.url;
}, 180_000);

afterAll(async () => {
  await console_?.stop();
  await cluster.kubectl(["delete", "crd", CRD, "--wait=false"]);
  for (const ref of [
    { namespace: teamA, serviceAccount: "alice" },
    { namespace: teamB, serviceAccount: "bob" },
    { namespace: teamB, serviceAccount: "carol" },
  ])
    await deleteIdentity(io, ref).catch(() => undefined);
  await deleteIdentity(io, provider).catch(() => undefined);
  await cluster.kubectl(["delete", "namespace", teamA, teamB, kp, "--wait=false"]);
}, 120_000);

describe("the console, as two consumers with their own kubeconfigs", () => {
  const alice = new Client();
  const bob = new Client();

  it("signs a consumer in with its kubeconfig's token, keeping only an HttpOnly SameSite=Strict cookie in the browser", async () => {
    const answer = await alice.signIn(kubeconfigs.alice);
    expect(answer.status).toBe(201);
    expect(answer.body).toMatchObject({
      user: { username: `system:serviceaccount:${teamA}:alice` },
      namespace: teamA,
    });
    const cookie = answer.headers.get("set-cookie") ?? "";
    expect(cookie).toMatch(
      /^kubeplus_console=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Secure$/,
    );
    expect(JSON.stringify(answer.body)).not.toContain("eyJ");
    expect(answer.headers.get("content-security-policy")).toContain("script-src 'self'");
    expect((await alice.call("GET", "/api/session")).body).toMatchObject({ namespace: teamA });
    expect((await bob.signIn(kubeconfigs.bob)).status).toBe(201);
  });

  it("refuses a kubeconfig it cannot use, and a credential the apiserver does not accept, saying what to change", async () => {
    const stranger = new Client();
    const forged = kubeconfigs.alice.replace(/"token":"[^"]+"/, '"token":"not-a-token"');
    const refused = await stranger.signIn(forged);
    expect(refused.status).toBe(401);
    expect(refused.body.message).toMatch(/did not accept this kubeconfig's credential/);
    expect(refused.headers.get("set-cookie")).toBeNull();
    const exec = kubeconfigs.alice.replace(/"token":"[^"]+"/, '"exec":{"command":"/bin/sh"}');
    expect((await stranger.signIn(exec)).body.message).toMatch(/does not run/);
    expect((await stranger.call("GET", "/api/session")).status).toBe(401);
    expect((await stranger.call("GET", instancesPath(teamA))).status).toBe(401);
  });

  it("shows each consumer the kinds its own rules let it use, with the schema of their spec", async () => {
    const catalog = await alice.call("GET", "/api/catalog");
    expect(catalog.status).toBe(200);
    expect(catalog.body).toMatchObject({ namespace: teamA, compositions: false });
    const kinds = catalog.body.kinds as Record<string, unknown>[];
    const kind = kinds.find((k) => k.kind === KIND);
    expect(kind).toMatchObject({
      plural: PLURAL,
      description: expect.stringContaining("console-test") as unknown,
      schema: { required: ["greeting"], properties: { replicas: { maximum: 3 } } },
    });
    expect(kind?.verbs).toEqual(expect.arrayContaining(["create", "list", "watch", "delete"]));
    // In a namespace where she holds nothing, nothing is listed.
    const elsewhere = await alice.call("GET", `/api/catalog?namespace=${teamB}`);
    expect(elsewhere.body.kinds).toEqual([]);
  });

  it("creates an instance as the consumer only with the session's CSRF token from the console's own origin", async () => {
    const noToken = await alice.call(
      "POST",
      instancesPath(teamA),
      instance(teamA, "no-token", "hi"),
    );
    expect(noToken.status).toBe(403);
    expect(noToken.body.message).toMatch(/CSRF token/);
    const crossSite = await alice.call(
      "POST",
      instancesPath(teamA),
      instance(teamA, "cross", "hi"),
      {
        "x-csrf-token": alice.csrf,
        origin: "https://evil.example",
      },
    );
    expect(crossSite.status).toBe(403);
    const created = await alice.change(
      "POST",
      instancesPath(teamA),
      instance(teamA, "shop", "Hello"),
    );
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ metadata: { name: "shop", namespace: teamA } });
    const listed = await cluster.kubectl(["get", PLURAL, "-n", teamA, "-o", "name"]);
    expect(listed.stdout.trim()).toBe(`${PLURAL.slice(0, -1)}.${GROUP}/shop`);
  });

  it("returns the apiserver's own refusal of a bad value, naming the field", async () => {
    const bad = await alice.change("POST", instancesPath(teamA), {
      ...instance(teamA, "bad", "x"),
      spec: { greeting: "x", replicas: 9 },
    });
    expect(bad.status).toBe(422);
    const causes = (bad.body.details as { causes?: { field?: string }[] }).causes ?? [];
    expect(causes.map((c) => c.field)).toContain("spec.replicas");
  });

  it("streams a watch of the consumer's instances as they change", async () => {
    const list = await alice.call("GET", instancesPath(teamA));
    const rv = (list.body.metadata as { resourceVersion: string }).resourceVersion;
    const res = await fetch(`${base}${instancesPath(teamA)}?watch=true&resourceVersion=${rv}`, {
      headers: { cookie: alice.cookie },
    });
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    if (!res.body) throw new Error("the watch has no body");
    const reader: ReadableStreamDefaultReader<Uint8Array> = res.body.getReader();
    let seen = "";
    const reading = (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        seen += Buffer.from(value).toString();
      }
    })();
    const patched = await cluster.kubectl([
      "patch",
      PLURAL,
      "shop",
      "-n",
      teamA,
      "--type=merge",
      "-p",
      '{"spec":{"greeting":"Changed"}}',
    ]);
    expect(patched.code).toBe(0);
    await waitFor(
      async () => Promise.resolve(seen.includes('"greeting":"Changed"') ? true : undefined),
      {
        what: "the watch event of the change",
        timeoutMs: 15_000,
      },
    );
    expect(seen).toMatch(/^\{"type":"MODIFIED"/);
    await reader.cancel();
    await reading.catch(() => undefined);
  });

  it("leaves the other tenant's instances to the apiserver, which refuses them to a forged request", async () => {
    const read = await bob.call("GET", instancesPath(teamA, "shop"));
    expect(read.status).toBe(403);
    expect(String(read.body.message)).toContain(`system:serviceaccount:${teamB}:bob`);
    expect((await bob.call("GET", instancesPath(teamA))).status).toBe(403);
    const removed = await bob.change("DELETE", instancesPath(teamA, "shop"));
    expect(removed.status).toBe(403);
    expect((await cluster.kubectl(["get", PLURAL, "shop", "-n", teamA])).code).toBe(0);
    const own = await bob.call("GET", instancesPath(teamB));
    expect(own.status).toBe(200);
    expect(own.body.items).toEqual([]);
  });

  it("lets each consumer read the events of its own namespace (what KubePlus says about its instances), not another's", async () => {
    const events = (ns: string): string => `/api/k8s/api/v1/namespaces/${ns}/events`;
    const own = await alice.call(
      "GET",
      `${events(teamA)}?fieldSelector=involvedObject.name%3Dshop`,
    );
    expect(own.status).toBe(200);
    expect(Array.isArray(own.body.items)).toBe(true);
    expect(
      (await alice.call("GET", `/api/k8s/apis/events.k8s.io/v1/namespaces/${teamA}/events`)).status,
    ).toBe(200);
    const other = await bob.call("GET", events(teamA));
    expect(other.status).toBe(403);
    expect(String(other.body.message)).toContain(`system:serviceaccount:${teamB}:bob`);
  });

  it("never passes proxy, exec or percent-encoded paths, whatever RBAC would allow", async () => {
    const proxy = await alice.call(
      "GET",
      `/api/k8s/api/v1/namespaces/${teamA}/services/web:80/proxy/`,
    );
    expect(proxy.status).toBe(403);
    expect(proxy.body.message).toMatch(/the console does not pass 'proxy' requests/);
    const encoded = await alice.call(
      "GET",
      `/api/k8s/api/v1/namespaces/${teamA}/services/web/%70roxy/`,
    );
    expect(encoded.status).toBe(400);
    const exec = await alice.change("POST", `/api/k8s/api/v1/namespaces/${teamA}/pods/p/exec`, {});
    expect(exec.status).toBe(403);
    expect(exec.body.message).toMatch(/the console does not pass 'exec' requests/);
  });

  it("signs out: the session and its credential are gone", async () => {
    const cookie = bob.cookie;
    const out = await bob.change("DELETE", "/api/session");
    expect(out.status).toBe(204);
    expect(out.headers.get("set-cookie")).toMatch(/^kubeplus_console=; .*Max-Age=0/);
    expect((await bob.call("GET", "/api/session", undefined, { cookie })).status).toBe(401);
    expect((await bob.call("GET", instancesPath(teamB), undefined, { cookie })).status).toBe(401);
  });

  it("ends a session when the apiserver stops accepting its credential", async () => {
    const carol = new Client();
    expect((await carol.signIn(kubeconfigs.carol)).status).toBe(201);
    expect((await carol.call("GET", instancesPath(teamB))).status).toBe(200);
    // Her ServiceAccount goes: its tokens stop authenticating.
    await cluster.kubectl(["delete", "serviceaccount", "carol", "-n", teamB]);
    await waitFor(
      async () =>
        (await carol.call("GET", instancesPath(teamB))).status === 401 ? true : undefined,
      { what: "the apiserver to refuse carol's token", timeoutMs: 30_000 },
    );
    expect((await carol.call("GET", "/api/session")).status).toBe(401);
  });

  it("serves the web app with the strict policy, and its own routes as the app's page", async () => {
    const page = await fetch(`${base}/kinds/${PLURAL}`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("<title>KubePlus console</title>");
    expect(page.headers.get("content-security-policy")).toBe(
      "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'",
    );
    expect(page.headers.get("x-frame-options")).toBe("DENY");
  });
});
