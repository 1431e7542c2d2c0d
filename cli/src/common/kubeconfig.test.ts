import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { kubeconfigPaths, loadUserKubeconfig, mergeKubeconfigs } from "./kubeconfig.js";

const cluster = (name: string, server: string) => ({ name, server, skipTLSVerify: false });
const user = (name: string, token: string) => ({ name, token });
const context = (name: string, c: string, u: string) => ({ name, cluster: c, user: u });

describe("mergeKubeconfigs", () => {
  it("keeps the first file's entry for each name and the first current-context that is set", () => {
    const merged = mergeKubeconfigs([
      {
        clusters: [cluster("a", "https://first")],
        users: [user("u", "t1")],
        contexts: [context("ca", "a", "u")],
        currentContext: "",
      },
      {
        clusters: [cluster("a", "https://second"), cluster("b", "https://b")],
        users: [user("u", "t2"), user("v", "t3")],
        contexts: [context("ca", "b", "v"), context("cb", "b", "v")],
        currentContext: "cb",
      },
      { clusters: [], users: [], contexts: [], currentContext: "ca" },
    ]);
    expect(merged.clusters).toEqual([cluster("a", "https://first"), cluster("b", "https://b")]);
    expect(merged.users).toEqual([user("u", "t1"), user("v", "t3")]);
    expect(merged.contexts).toEqual([context("ca", "a", "u"), context("cb", "b", "v")]);
    expect(merged.currentContext).toBe("cb");
  });

  it("reads $KUBECONFIG's list as kubectl does", () => {
    expect(kubeconfigPaths("/a::/b:/a")).toEqual(["/a", "/b"]);
    expect(kubeconfigPaths(undefined)).toEqual([]);
  });
});

describe("loadUserKubeconfig", () => {
  const dir = mkdtempSync(join(tmpdir(), "kubeconfig-test-"));
  const file = (name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  const one = file(
    "one",
    `apiVersion: v1
kind: Config
clusters: [{name: a, cluster: {server: "https://one.example:6443"}}]
users: [{name: u, user: {token: one}}]
contexts: [{name: ca, context: {cluster: a, user: u, namespace: n1}}]
`,
  );
  const two = file(
    "two",
    `apiVersion: v1
kind: Config
current-context: cb
clusters: [{name: a, cluster: {server: "https://shadowed.example"}}, {name: b, cluster: {server: "https://two.example:6443"}}]
users: [{name: u, user: {token: shadowed}}, {name: v, user: {token: two}}]
contexts: [{name: cb, context: {cluster: b, user: v}}]
`,
  );

  it("merges $KUBECONFIG's files: current-context from the file that sets it, first file wins per name", () => {
    const kc = loadUserKubeconfig(undefined, `${one}:${two}`);
    expect(kc.getCurrentContext()).toBe("cb");
    expect(kc.getCurrentCluster()?.server).toBe("https://two.example:6443");
    expect(kc.getCluster("a")?.server).toBe("https://one.example:6443");
    expect(kc.getUser("u")?.token).toBe("one");
  });

  it("--context picks another context of the merged config", () => {
    const kc = loadUserKubeconfig({ context: "ca" }, `${one}:${two}`);
    expect(kc.getCurrentCluster()?.server).toBe("https://one.example:6443");
    expect(kc.getCurrentUser()?.token).toBe("one");
  });

  it("-k takes precedence over $KUBECONFIG", () => {
    const kc = loadUserKubeconfig({ kubeconfig: two }, one);
    expect(kc.getCurrentContext()).toBe("cb");
  });

  it("skips files that do not exist, and says what to do when none does", () => {
    expect(
      loadUserKubeconfig(undefined, `${join(dir, "missing")}:${two}`).getCurrentContext(),
    ).toBe("cb");
    expect(() => loadUserKubeconfig(undefined, join(dir, "missing"))).toThrow(
      /no kubeconfig found .*pass -k\/--kubeconfig <path> or set KUBECONFIG/,
    );
  });

  it("names the contexts there are when --context names none of them, and needs a context", () => {
    expect(() => loadUserKubeconfig({ context: "nope" }, `${one}:${two}`)).toThrow(
      'context "nope" does not exist in KUBECONFIG (contexts: ca, cb)',
    );
    expect(() => loadUserKubeconfig({ kubeconfig: one }, undefined)).toThrow(
      `kubeconfig ${one} has no current context: pass --context <name>`,
    );
    expect(
      loadUserKubeconfig({ kubeconfig: one, context: "ca" }, undefined).getCurrentContext(),
    ).toBe("ca");
  });
});
