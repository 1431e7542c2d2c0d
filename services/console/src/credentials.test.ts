import { describe, expect, it } from "vitest";
import { CredentialError, readKubeconfig } from "./credentials.js";

const pem = (label: string): string =>
  Buffer.from(`-----BEGIN ${label}-----\nMIIB\n-----END ${label}-----\n`).toString("base64");

function kubeconfig(user: Record<string, unknown>, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    apiVersion: "v1",
    kind: "Config",
    "current-context": "alice@prod",
    clusters: [{ name: "prod", cluster: { server: "https://198.18.0.1:6443" } }],
    contexts: [
      { name: "alice@prod", context: { cluster: "prod", user: "alice", namespace: "team-a" } },
      { name: "other", context: { cluster: "prod", user: "alice" } },
    ],
    users: [{ name: "alice", user }],
    ...extra,
  });
}

describe("readKubeconfig", () => {
  it("takes the current context's token and namespace", () => {
    expect(readKubeconfig(kubeconfig({ token: " abc " }))).toEqual({
      credential: { kind: "token", token: "abc" },
      context: "alice@prod",
      namespace: "team-a",
    });
  });

  it("takes a named context, with namespace default when the context names none", () => {
    expect(readKubeconfig(kubeconfig({ token: "abc" }), "other").namespace).toBe("default");
  });

  it("reads YAML as kubectl writes it", () => {
    const yaml = `apiVersion: v1
kind: Config
current-context: c
contexts:
- name: c
  context: {cluster: x, user: u, namespace: team-b}
users:
- name: u
  user:
    client-certificate-data: ${pem("CERTIFICATE")}
    client-key-data: ${pem("EC PRIVATE KEY")}
`;
    const read = readKubeconfig(yaml);
    expect(read.credential.kind).toBe("certificate");
    expect(read.credential.kind === "certificate" && read.credential.cert).toContain(
      "BEGIN CERTIFICATE",
    );
    expect(read.namespace).toBe("team-b");
  });

  it.each([
    [{ exec: { command: "aws" } }, /from a program \(exec or auth-provider\)/],
    [{ "auth-provider": { name: "oidc" } }, /from a program/],
    [{ tokenFile: "/var/run/secrets/token" }, /uses 'tokenFile'.*never reads files/],
    [
      { "client-certificate": "/etc/cert.pem", "client-key": "/etc/key.pem" },
      /uses 'client-certificate'/,
    ],
    [{ username: "admin", password: "x" }, /uses 'username'/],
    [{}, /has no credential/],
    [{ "client-certificate-data": pem("CERTIFICATE") }, /client-key-data is empty/],
    [
      { "client-certificate-data": "bm90IGEgcGVt", "client-key-data": pem("KEY") },
      /not base64 of a PEM/,
    ],
  ])("refuses user %j, saying what to change", (user, message) => {
    expect(() => readKubeconfig(kubeconfig(user))).toThrow(message);
  });

  it("refuses what is not a kubeconfig, a missing context, and a file too large", () => {
    expect(() => readKubeconfig("{ not yaml: [")).toThrow(CredentialError);
    expect(() => readKubeconfig("kind: Pod\n")).toThrow(/kind: Config/);
    expect(() => readKubeconfig(kubeconfig({ token: "a" }, { "current-context": "" }))).toThrow(
      /no current-context/,
    );
    expect(() => readKubeconfig(kubeconfig({ token: "a" }), "nope")).toThrow(
      /context 'nope'.*does not define it/,
    );
    expect(() => readKubeconfig(kubeconfig({ token: "a".repeat(70_000) }))).toThrow(
      /larger than 64 KiB/,
    );
  });

  it("never takes the server URL: the result has no cluster in it", () => {
    expect(JSON.stringify(readKubeconfig(kubeconfig({ token: "abc" })))).not.toContain(
      "198.18.0.1",
    );
  });
});
