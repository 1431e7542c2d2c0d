import { describe, expect, it } from "vitest";
import { natsConfig } from "./nats.js";

function load(env: NodeJS.ProcessEnv): {
  config: ReturnType<typeof natsConfig>;
  problems: string[];
} {
  const problems: string[] = [];
  return { config: natsConfig(env, "helmer", problems), problems };
}

const cert = { NATS_CERT_FILE: "/c/tls.crt", NATS_KEY_FILE: "/c/tls.key" };

describe("natsConfig", () => {
  it("reads a TLS connection with the service's certificate and its own inbox", () => {
    const { config, problems } = load({
      NATS_URL: "nats://a:4222, nats://b:4222",
      NATS_CA_FILE: "/c/ca.crt",
      ...cert,
    });
    expect(problems).toEqual([]);
    expect(config).toEqual({
      servers: ["nats://a:4222", "nats://b:4222"],
      caFile: "/c/ca.crt",
      credential: { kind: "certificate", certFile: "/c/tls.crt", keyFile: "/c/tls.key" },
      inboxPrefix: "_INBOX.helmer",
    });
  });

  it("accepts an nkey seed or a creds file instead, and tls:// URLs without a CA file", () => {
    expect(
      load({ NATS_URL: "tls://n:4222", NATS_NKEY_SEED_FILE: "/s/nkey.seed" }).config.credential,
    ).toEqual({ kind: "nkey", seedFile: "/s/nkey.seed" });
    const creds = load({ NATS_URL: "tls://n:4222", NATS_CREDS_FILE: "/s/user.creds" });
    expect(creds.problems).toEqual([]);
    expect(creds.config.credential).toEqual({ kind: "creds", credsFile: "/s/user.creds" });
  });

  it("refuses an anonymous or plain-text configuration, saying what to set", () => {
    const { problems } = load({ NATS_URL: "nats://n:4222" });
    expect(problems).toEqual([
      expect.stringContaining("NATS_CA_FILE is required"),
      expect.stringContaining("a NATS credential is required"),
    ]);
    expect(load({}).problems[0]).toContain("NATS_URL is required");
  });

  it("refuses half a certificate, several credentials and a wildcard inbox", () => {
    const base = { NATS_URL: "tls://n:4222" };
    expect(load({ ...base, NATS_CERT_FILE: "/c/tls.crt" }).problems).toEqual([
      "NATS_CERT_FILE and NATS_KEY_FILE go together: set both",
    ]);
    expect(load({ ...base, ...cert, NATS_CREDS_FILE: "/u.creds" }).problems[0]).toContain(
      "give one NATS credential",
    );
    expect(load({ ...base, ...cert, NATS_INBOX_PREFIX: "_INBOX.>" }).problems[0]).toContain(
      "NATS_INBOX_PREFIX must be",
    );
  });
});
