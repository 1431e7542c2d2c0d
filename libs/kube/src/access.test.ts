import { mkdtempSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RequestOptions } from "node:https";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { loadApiAccess, StaticAccess, staticCredentials } from "./access.js";

const dir = mkdtempSync(join(tmpdir(), "kubeplus-access-"));

function kubeconfig(user: Record<string, unknown>, cluster: Record<string, unknown> = {}): string {
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    "current-context": "dev",
    contexts: [
      { name: "other", context: { cluster: "elsewhere", user: "nobody" } },
      { name: "dev", context: { cluster: "local", user: "admin" } },
    ],
    clusters: [
      { name: "elsewhere", cluster: { server: "https://10.0.0.1:6443" } },
      { name: "local", cluster: { server: "https://127.0.0.1:6443", ...cluster } },
    ],
    users: [
      { name: "nobody", user: { token: "wrong" } },
      { name: "admin", user },
    ],
  });
}

async function headersOf(access: {
  applyToHTTPSOptions(o: RequestOptions): Promise<void>;
}): Promise<Record<string, string>> {
  const options: RequestOptions = { headers: { accept: "application/json" } };
  await access.applyToHTTPSOptions(options);
  return options.headers as Record<string, string>;
}

describe("staticCredentials", () => {
  it("takes the current context's cluster and user: inline data, and files relative to the kubeconfig", () => {
    writeFileSync(join(dir, "ca.crt"), "CA");
    writeFileSync(join(dir, "key.pem"), "KEY");
    const creds = staticCredentials(
      kubeconfig(
        {
          "client-certificate-data": Buffer.from("CERT").toString("base64"),
          "client-key": "key.pem",
        },
        { "certificate-authority": "ca.crt", "tls-server-name": "kubernetes" },
      ),
      dir,
    );
    expect(creds?.server).toBe("https://127.0.0.1:6443");
    expect(creds?.ca?.toString()).toBe("CA");
    expect(creds?.cert?.toString()).toBe("CERT");
    expect(creds?.key?.toString()).toBe("KEY");
    expect(creds?.servername).toBe("kubernetes");
    expect(creds?.token).toBeUndefined();
  });

  it("leaves exec plugins, auth providers and proxies to client-node", () => {
    expect(staticCredentials(kubeconfig({ exec: { command: "aws" } }), dir)).toBeUndefined();
    expect(
      staticCredentials(kubeconfig({ "auth-provider": { name: "oidc" } }), dir),
    ).toBeUndefined();
    expect(
      staticCredentials(kubeconfig({ token: "t" }, { "proxy-url": "http://proxy:3128" }), dir),
    ).toBeUndefined();
  });

  it("says which context lacks a server", () => {
    const text = stringify({ "current-context": "gone", contexts: [], clusters: [], users: [] });
    expect(() => staticCredentials(text, dir)).toThrow(
      "the kubeconfig's current context gone names no cluster with a server",
    );
  });
});

describe("StaticAccess", () => {
  it("sends the token, or basic auth, and one shared keep-alive agent", async () => {
    const access = new StaticAccess({ server: "https://127.0.0.1:6443", token: "abc" });
    const first: RequestOptions = {};
    const second: RequestOptions = {};
    await access.applyToHTTPSOptions(first);
    await access.applyToHTTPSOptions(second);
    expect(first.headers).toEqual({ authorization: "Bearer abc" });
    expect(first.agent).toBe(second.agent);
    const basic = new StaticAccess({
      server: "https://127.0.0.1:6443",
      basic: { username: "ann", password: "pw" },
    });
    expect((await headersOf(basic)).authorization).toBe(
      `Basic ${Buffer.from("ann:pw").toString("base64")}`,
    );
    expect(await headersOf(basic)).toMatchObject({ accept: "application/json" });
  });

  it("reads a rotated token file again", async () => {
    const file = join(dir, "token");
    writeFileSync(file, "one\n");
    utimesSync(file, 1000, 1000);
    const access = new StaticAccess({ server: "https://127.0.0.1:6443", tokenFile: file });
    expect((await headersOf(access)).authorization).toBe("Bearer one");
    writeFileSync(file, "two\n");
    utimesSync(file, 2000, 2000);
    // Checked at most every 10 s: pretend that long has passed.
    (access as unknown as { token: { checkedAt: number } }).token.checkedAt -= 11_000;
    expect((await headersOf(access)).authorization).toBe("Bearer two");
  });
});

describe("loadApiAccess", () => {
  it("loads a static kubeconfig without client-node, and one with an exec plugin with it", async () => {
    const plain = join(dir, "plain.yaml");
    writeFileSync(plain, kubeconfig({ token: "abc" }));
    const access = await loadApiAccess(plain, {});
    expect(access).toBeInstanceOf(StaticAccess);
    expect(access.getCurrentCluster()?.server).toBe("https://127.0.0.1:6443");

    const exec = join(dir, "exec.yaml");
    writeFileSync(
      exec,
      kubeconfig({ exec: { apiVersion: "client.authentication.k8s.io/v1", command: "true" } }),
    );
    const viaClientNode = await loadApiAccess(exec, {});
    expect(viaClientNode).not.toBeInstanceOf(StaticAccess);
    expect(viaClientNode.getCurrentCluster()?.server).toBe("https://127.0.0.1:6443");
  });

  it("takes $KUBECONFIG, and says what to do when there is no kubeconfig at all", async () => {
    const plain = join(dir, "env.yaml");
    writeFileSync(plain, kubeconfig({ token: "from-env" }));
    const access = await loadApiAccess(undefined, { KUBECONFIG: plain });
    expect((await headersOf(access)).authorization).toBe("Bearer from-env");
    await expect(loadApiAccess(undefined, { HOME: join(dir, "no-home") })).rejects.toThrow(
      "no kubeconfig: set KUBECONFIG",
    );
  });
});
