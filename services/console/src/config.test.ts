import { describe, expect, it } from "vitest";
import { loadConfig } from "./config.js";

describe("loadConfig", () => {
  it("defaults to the in-cluster apiserver, secure cookies and half-hour idle sessions", () => {
    const config = loadConfig({
      KUBERNETES_SERVICE_HOST: "198.19.0.1",
      KUBERNETES_SERVICE_PORT: "443",
    });
    expect(config).toMatchObject({
      port: 8080,
      apiserverUrl: "https://198.19.0.1:443",
      apiserverCaFile: "/var/run/kubeplus/kube-root-ca/ca.crt",
      secureCookies: true,
      sessionIdleMs: 1_800_000,
      sessionMaxMs: 28_800_000,
      healthPort: 8081,
    });
    expect(loadConfig({ KUBERNETES_SERVICE_HOST: "fd00::1" }).apiserverUrl).toBe(
      "https://[fd00::1]:443",
    );
  });

  it("reports every problem together, each saying what to change", () => {
    expect(() =>
      loadConfig({
        CONSOLE_APISERVER_URL: "http://198.18.0.1:6443",
        CONSOLE_SECURE_COOKIES: "yes",
        PORT: "80000",
        CONSOLE_SESSION_IDLE_SECONDS: "90000",
      }),
    ).toThrow(
      /PORT must be a port number[\s\S]*must be an https:\/\/ URL[\s\S]*CONSOLE_SECURE_COOKIES must be true or false[\s\S]*must not exceed CONSOLE_SESSION_MAX_SECONDS/,
    );
    expect(() => loadConfig({})).toThrow(/KUBERNETES_SERVICE_HOST is not set/);
  });
});
