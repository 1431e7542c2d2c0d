// DNS rebinding against the chart fetcher's address guard: a host name whose first answer is an allowed address and
// whose later answers are a restricted one. The guard must connect to the address it checked, never ask DNS again
// (which is where a rebinding answer would send it). The resolver is the test's own (FetchDeps.resolve), never real
// DNS; the only server is a chart server on 127.0.0.1, allow-listed; 127.0.0.2 (loopback, restricted, not allowed)
// has nothing listening, so a fetcher that connected there would fail with ECONNREFUSED.
import { createServer, type Server } from "node:http";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { minimalChart } from "@kubeplus/testing";
import { parseAllowList } from "./address-guard.js";
import { fetchChart, type FetchDeps } from "./fetch.js";

let server: Server;
let port = 0;
const requests: string[] = [];

beforeAll(async () => {
  const archive = await minimalChart("tiny");
  server = createServer((req, res) => {
    requests.push(`${req.headers.host ?? ""}${req.url ?? ""}`);
    if (req.url === "/tiny-0.1.0.tgz") {
      res.writeHead(200, { "content-type": "application/gzip" });
      res.end(archive);
      return;
    }
    // Any other path: a redirect to another host name (resolved by the test's resolver).
    res.writeHead(302, { location: `http://inner.rebind.test:${String(port)}/tiny-0.1.0.tgz` });
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

/** A resolver whose answers come from a list, one per call (the last one repeated), recording each call. */
function rebinding(answers: readonly (readonly string[])[]): {
  resolve: NonNullable<FetchDeps["resolve"]>;
  calls: string[];
} {
  const calls: string[] = [];
  return {
    calls,
    resolve: (host) => {
      const answer = answers[Math.min(calls.length, answers.length - 1)] ?? [];
      calls.push(host);
      return Promise.resolve(answer.map((address) => ({ address, family: 4 })));
    },
  };
}

function deps(resolve: FetchDeps["resolve"]): FetchDeps {
  return {
    helmBin: "helm-is-not-used-for-http",
    cacheDir: mkdtempSync(join(tmpdir(), "fetch-rebinding-")),
    loadUploaded: () => Promise.resolve(undefined),
    timeoutMs: 5_000,
    allow: parseAllowList("127.0.0.1/32"),
    ...(resolve ? { resolve } : {}),
  };
}

describe("the chart fetcher under DNS rebinding", () => {
  it("connects to the address it checked: a host that answers allowed first and loopback afterwards is fetched from the checked address, DNS asked once", async () => {
    requests.length = 0;
    const dns = rebinding([["127.0.0.1"], ["127.0.0.2"]]);
    const chart = await fetchChart(
      `http://charts.rebind.test:${String(port)}/tiny-0.1.0.tgz`,
      "tiny",
      deps(dns.resolve),
    );
    expect(chart.metadata.name).toBe("tiny");
    expect(dns.calls).toEqual(["charts.rebind.test"]);
    expect(requests).toEqual([`charts.rebind.test:${String(port)}/tiny-0.1.0.tgz`]);
  });

  it("refuses a host name that resolves to a loopback address it does not allow, before connecting", async () => {
    requests.length = 0;
    const dns = rebinding([["127.0.0.2"]]);
    await expect(
      fetchChart(
        `http://charts.rebind.test:${String(port)}/tiny-0.1.0.tgz`,
        "tiny",
        deps(dns.resolve),
      ),
    ).rejects.toThrow(
      /its host charts\.rebind\.test \(127\.0\.0\.2\), a loopback address, which the chart fetcher does not reach; .*CHART_FETCH_ALLOW_CIDRS/,
    );
    expect(requests).toEqual([]);
  });

  it("refuses a host name with one allowed and one restricted answer (every answer is checked, not only the first)", async () => {
    const dns = rebinding([["127.0.0.1", "127.0.0.2"]]);
    await expect(
      fetchChart(
        `http://charts.rebind.test:${String(port)}/tiny-0.1.0.tgz`,
        "tiny",
        deps(dns.resolve),
      ),
    ).rejects.toThrow(/127\.0\.0\.2\), a loopback address/);
  });

  it("checks a redirect's host anew: a redirect to a name that now resolves to loopback is refused on that hop", async () => {
    requests.length = 0;
    // The first host's answer is allowed; the redirect's host answers a restricted address.
    const dns = rebinding([["127.0.0.1"], ["127.0.0.2"]]);
    await expect(
      fetchChart(`http://charts.rebind.test:${String(port)}/moved`, "tiny", deps(dns.resolve)),
    ).rejects.toThrow(
      /redirect 1 goes to inner\.rebind\.test \(127\.0\.0\.2\), a loopback address/,
    );
    expect(dns.calls).toEqual(["charts.rebind.test", "inner.rebind.test"]);
    expect(requests).toEqual([`charts.rebind.test:${String(port)}/moved`]);
  });
});
