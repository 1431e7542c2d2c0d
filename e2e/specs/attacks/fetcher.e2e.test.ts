// Attacks through the chart fetcher (issue 16, seen item 6; deliver item 5): a chartURL that redirects to the
// helmer's own loopback, used as a port scanner, and a flood of render requests. The real helmer answers, over NATS
// (as crd-hook asks it) and through a composition's condition (as the provider sees it).
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import type { NatsConnection } from "@nats-io/nats-core";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { ContractError, request } from "@kubeplus/contracts";
import {
  compositionManifest,
  connectNatsAs,
  conditionOf,
  ManifestDir,
  minimalChart,
  platformNamespace,
  startHelmer,
  tearDownPlatform,
  TestCluster,
  waitFor,
  type RunningService,
  type TestCondition,
} from "@kubeplus/testing";

const cluster = new TestCluster();
const manifests = new ManifestDir("attack-fetcher");
let kp = "";
let helmer: RunningService;
/** The attacker's web server: the only address the helmer is allowed to fetch from. */
let redirector: Server;
/** Something listening on loopback that is not a chart server (an open port to find). */
let bystander: Server;
let redirectorPort = 0;
let openPort = 0;
let closedPort = 0;
let chart: Buffer;

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as AddressInfo).port;
}

/** A caller of its own (renders are rate-limited per caller): a NATS connection closed when the test ends. */
async function caller(name: string): Promise<NatsConnection> {
  // crd-hook's own NATS identity: the only one allowed to ask for renders.
  const conn = await connectNatsAs(cluster.state, "crd-hook", { name });
  onTestFinished(() => conn.close());
  return conn;
}

/** A render as crd-hook asks for one; the error message the caller gets back (or "rendered"). */
async function renderError(conn: NatsConnection, chartURL: string): Promise<string> {
  try {
    await request(
      conn,
      "HelmerRender",
      { version: 1, chartURL, chartName: "tiny" },
      { timeoutMs: 15_000 },
    );
    return "rendered";
  } catch (err) {
    if (err instanceof ContractError) return err.message;
    throw err;
  }
}

beforeAll(async () => {
  chart = await minimalChart("tiny");
  bystander = createServer((_req, res) => res.writeHead(400).end("bad request"));
  openPort = await listen(bystander);
  const probe = createServer();
  closedPort = await listen(probe);
  await new Promise((r) => probe.close(r));
  redirector = createServer((req, res) => {
    const path = req.url ?? "/";
    if (path === "/tiny-0.1.0.tgz") {
      res.writeHead(200, { "content-type": "application/gzip" }).end(chart);
      return;
    }
    const target: Record<string, string> = {
      "/to-open.tgz": `http://127.0.0.1:${String(openPort)}/chart.tgz`,
      "/to-closed.tgz": `http://127.0.0.1:${String(closedPort)}/chart.tgz`,
      "/to-localhost.tgz": `http://localhost:${String(openPort)}/chart.tgz`,
      "/to-mapped.tgz": `http://[::ffff:127.0.0.1]:${String(openPort)}/chart.tgz`,
      "/to-decimal.tgz": `http://2130706433:${String(openPort)}/chart.tgz`,
      "/twice.tgz": `/to-open.tgz`,
    };
    // An OCI registry of the attacker's (helm speaks to it in plain HTTP): its manifests redirect to loopback ports.
    if (path === "/v2/" || path === "/v2") {
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
      return;
    }
    const oci = /^\/v2\/scan\/(open|closed)\//.exec(path);
    if (oci) {
      const port = oci[1] === "open" ? openPort : closedPort;
      res.writeHead(307, { location: `http://127.0.0.1:${String(port)}/blob` }).end();
      return;
    }
    const location = target[path];
    if (!location) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(302, { location }).end();
  });
  redirectorPort = await listen(redirector);
  kp = await platformNamespace(cluster, "atk-fetch");
  // The provider allows exactly its chart server (address and port), nothing else of loopback.
  helmer = await startHelmer(cluster, kp, join(manifests.dir, "cache"), {
    CHART_FETCH_ALLOW_CIDRS: `127.0.0.1:${String(redirectorPort)}`,
    OCI_PLAIN_HTTP_REGISTRIES: `127.0.0.1:${String(redirectorPort)}`,
    RENDER_BURST: "6",
    RENDER_RATE_PER_MINUTE: "6",
  });
}, 120_000);

afterAll(async () => {
  await tearDownPlatform(cluster, { namespace: kp, generatedCrds: [], services: [helmer] });
  await new Promise((r) => redirector.close(r));
  await new Promise((r) => bystander.close(r));
});

const url = (path: string): string => `http://127.0.0.1:${String(redirectorPort)}${path}`;

describe("attacks through the chart fetcher", () => {
  it("a redirect to a closed and to an open loopback port give the same error: no port scanning", async () => {
    const nc = await caller("attack-scan");
    // The requested URL (the attacker's own input) is echoed; everything else must be the same.
    const answer = async (path: string): Promise<string> =>
      (await renderError(nc, url(path))).replace(url(path), "<chartURL>");
    const toClosed = await answer("/to-closed.tgz");
    const toOpen = await answer("/to-open.tgz");
    expect(toOpen).not.toBe("rendered");
    expect(toOpen).toBe(toClosed);
    // Not a word about what answered there.
    expect(toOpen).not.toMatch(/HTTP 400|fetch failed|ECONNREFUSED|bad request/);
  });

  it("an oci:// registry that redirects helm to a closed and to an open loopback port gives the same error: no port scanning through helm", async () => {
    const nc = await caller("attack-oci-scan");
    const registry = `127.0.0.1:${String(redirectorPort)}`;
    const answer = async (repo: "open" | "closed"): Promise<string> =>
      (await renderError(nc, `oci://${registry}/scan/${repo}:0.1.0`)).replaceAll(
        `scan/${repo}`,
        "scan/<repo>",
      );
    const toClosed = await answer("closed");
    const toOpen = await answer("open");
    expect(toOpen).not.toBe("rendered");
    expect(toOpen).toBe(toClosed);
    expect(toOpen).not.toMatch(/refused|400|bad request|EOF|reset|status code/i);
    expect(toOpen).toMatch(/127\.0\.0\.1, a loopback address/);
    expect(toOpen).toContain("CHART_FETCH_ALLOW_CIDRS");
  });

  it("a redirect to a loopback or private address is refused on every hop, with a message naming the allow-list", async () => {
    const nc = await caller("attack-redirects");
    for (const path of [
      "/to-open.tgz",
      "/twice.tgz",
      "/to-localhost.tgz",
      "/to-mapped.tgz",
      "/to-decimal.tgz",
    ]) {
      const message = await renderError(nc, url(path));
      expect(message, path).toContain("CHART_FETCH_ALLOW_CIDRS");
      expect(message, path).toMatch(/loopback/);
    }
    // The allowed server itself still serves its chart.
    expect(await renderError(await caller("attack-allowed"), url("/tiny-0.1.0.tgz"))).toBe(
      "rendered",
    );
    // A composition's condition says the same to the provider.
    const rc = compositionManifest({
      name: "redirected",
      namespace: kp,
      kind: "RedirectedApp",
      plural: "redirectedapps",
      chartURL: url("/to-open.tgz"),
      chartName: "tiny",
    });
    expect((await cluster.kubectl(["create", "-f", manifests.write("rc", rc)])).stderr).toBe("");
    const condition = await waitFor(
      async () => {
        const r = await cluster.kubectl([
          "get",
          "resourcecomposition",
          "redirected",
          "-n",
          kp,
          "-o",
          "json",
        ]);
        const c = conditionOf(
          JSON.parse(r.stdout) as { status?: { conditions?: TestCondition[] } },
        );
        return c?.status === "False" && c.message.includes("could not download") ? c : undefined;
      },
      { what: "the composition to say why its chart is unavailable" },
    );
    expect(condition.message).toContain("CHART_FETCH_ALLOW_CIDRS");
  });

  it("renders are rate-limited per caller: a flood is refused with a retry hint, another caller is still served", async () => {
    const flooder = await caller("attack-flood");
    const answers = await Promise.all(
      Array.from({ length: 12 }, () => renderError(flooder, url("/tiny-0.1.0.tgz"))),
    );
    const limited = answers.filter((a) => a !== "rendered");
    expect(limited.length).toBeGreaterThanOrEqual(5);
    expect(limited[0]).toMatch(/too many render requests.*retry in \d+ s/);
    expect(await renderError(await caller("attack-other"), url("/tiny-0.1.0.tgz"))).toBe(
      "rendered",
    );
  });
});
