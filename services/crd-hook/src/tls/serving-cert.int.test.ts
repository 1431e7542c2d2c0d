import { X509Certificate } from "node:crypto";
import { CoreV1Api } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { TestCluster } from "@kubeplus/testing";
import { ensureServingCertificate } from "./serving-cert.js";

const cluster = new TestCluster();
const DAY = 24 * 3600 * 1000;

describe("crd-hook serving certificate in its Secret", () => {
  it("is created once, reused, renewed before expiry under the same CA, and re-issued when a name is added", async () => {
    const namespace = await cluster.freshNamespace("cert");
    const core = cluster.kc.makeApiClient(CoreV1Api);
    const options = {
      namespace,
      secretName: "crd-hook-tls",
      dnsNames: ["crd-hook.kp.svc"],
      ipAddresses: ["127.0.0.1"],
      renewBeforeMs: 30 * DAY,
      validityDays: 90,
    };
    const t0 = new Date();
    const first = await ensureServingCertificate(core, options, t0);
    expect(first.rotated).toBe(true);
    const again = await ensureServingCertificate(core, options, new Date(t0.getTime() + 10 * DAY));
    expect(again.rotated).toBe(false);
    expect(again.material.serving.certPem).toBe(first.material.serving.certPem);

    const late = await ensureServingCertificate(core, options, new Date(t0.getTime() + 70 * DAY));
    expect(late.rotated).toBe(true);
    expect(late.material.ca.certPem).toBe(first.material.ca.certPem);
    const renewed = new X509Certificate(late.material.serving.certPem);
    expect(renewed.verify(new X509Certificate(first.material.ca.certPem).publicKey)).toBe(true);
    const stored = await core.readNamespacedSecret({ name: "crd-hook-tls", namespace });
    expect(Buffer.from(stored.data!["tls.crt"]!, "base64").toString()).toBe(
      late.material.serving.certPem,
    );

    const wider = await ensureServingCertificate(core, {
      ...options,
      dnsNames: [...options.dnsNames, "crd-hook.kp.svc.cluster.local"],
    });
    expect(wider.rotated).toBe(true);
    expect(new X509Certificate(wider.material.serving.certPem).subjectAltName).toContain(
      "DNS:crd-hook.kp.svc.cluster.local",
    );
  });

  it("two replicas starting at once agree on one certificate: the one that loses the race to create the Secret uses it", async () => {
    const namespace = await cluster.freshNamespace("cert-race");
    const core = cluster.kc.makeApiClient(CoreV1Api);
    const options = {
      namespace,
      secretName: "crd-hook-tls",
      dnsNames: ["crd-hook.kp.svc"],
      ipAddresses: [],
      renewBeforeMs: 30 * DAY,
      validityDays: 90,
    };
    const results = await Promise.all([
      ensureServingCertificate(core, options),
      ensureServingCertificate(core, options),
      ensureServingCertificate(core, options),
    ]);
    const stored = await core.readNamespacedSecret({ name: "crd-hook-tls", namespace });
    const storedCert = Buffer.from(stored.data!["tls.crt"]!, "base64").toString();
    for (const r of results) expect(r.material.serving.certPem).toBe(storedCert);
  });
});
