import { describe, expect, it } from "vitest";
import { loadConfig } from "../config.js";
import { buildWebhookConfigurations, WEBHOOK_CONFIGURATION } from "./configurations.js";

const options = {
  target: { url: "https://127.0.0.1:9443" },
  caBundle: "CA",
  generatedGroups: [],
  timeoutSeconds: 10,
};
const names = (o: ReturnType<typeof buildWebhookConfigurations>): unknown[] =>
  [o.validating, o.mutating].map((c) => (c.metadata as { name: string }).name);

/** The least configuration crd-hook starts with (NATS is required). */
const env = { NATS_URL: "tls://nats:4222", NATS_CREDS_FILE: "/s/crd-hook.creds" };

describe("crd-hook's webhook configurations", () => {
  it("are named kubeplus-crd-hook, as the chart names them, unless configured otherwise", () => {
    expect(names(buildWebhookConfigurations(options))).toEqual([
      WEBHOOK_CONFIGURATION,
      WEBHOOK_CONFIGURATION,
    ]);
    expect(names(buildWebhookConfigurations({ ...options, name: "kubeplus-test-kpa-1" }))).toEqual([
      "kubeplus-test-kpa-1",
      "kubeplus-test-kpa-1",
    ]);
  });

  it("take their name from WEBHOOK_CONFIGURATION_NAME, which must be a DNS subdomain name", () => {
    expect(loadConfig(env).webhookConfigurationName).toBe("kubeplus-crd-hook");
    expect(
      loadConfig({ ...env, WEBHOOK_CONFIGURATION_NAME: "kubeplus-test-kpa-1" })
        .webhookConfigurationName,
    ).toBe("kubeplus-test-kpa-1");
    expect(() => loadConfig({ ...env, WEBHOOK_CONFIGURATION_NAME: "Not_A_Name" })).toThrow(
      /WEBHOOK_CONFIGURATION_NAME must be a DNS subdomain name \(got 'Not_A_Name'\)/,
    );
  });
});
