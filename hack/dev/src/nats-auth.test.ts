import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { NATS_PERMISSIONS_FILE, natsAuthFiles, natsServerConfig } from "./nats-auth.js";

describe("natsServerConfig", () => {
  const config = JSON.parse(
    natsServerConfig({
      port: 4222,
      monitorPort: 8222,
      storeDir: "/run/nats",
      files: natsAuthFiles("/run/auth"),
    }),
  ) as {
    listen: string;
    tls: Record<string, unknown>;
    accounts: Record<
      string,
      { users: { user: string; permissions?: unknown }[]; jetstream?: string }
    >;
    no_auth_user?: string;
  };

  it("listens on loopback, TLS only, client certificates verified and mapped to users, no anonymous user", () => {
    expect(config.listen).toBe("127.0.0.1:4222");
    expect(config.tls).toMatchObject({ verify_and_map: true, ca_file: "/run/auth/ca.crt" });
    expect(config.no_auth_user).toBeUndefined();
  });

  it("grants KubePlus's identities the chart's generated permissions, and keeps JetStream in a separate account", () => {
    const permissions = JSON.parse(readFileSync(NATS_PERMISSIONS_FILE, "utf8")) as Record<
      string,
      unknown
    >;
    expect(config.accounts.KUBEPLUS?.users).toEqual(
      Object.entries(permissions).map(([u, p]) => ({ user: `CN=${u}`, permissions: p })),
    );
    expect(config.accounts.KUBEPLUS?.jetstream).toBeUndefined();
    expect(config.accounts.SANDBOX).toEqual({
      jetstream: "enabled",
      users: [{ user: "CN=sandbox" }],
    });
  });
});
