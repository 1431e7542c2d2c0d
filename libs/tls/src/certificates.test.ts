import { X509Certificate } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  CertificateUsage,
  createCertificateAuthority,
  issueCertificate,
  needsRenewal,
} from "./certificates.js";

describe("certificates", async () => {
  const ca = await createCertificateAuthority({ commonName: "test-ca" });

  it("issues a serving certificate with DNS and IP SANs that verifies against its CA", async () => {
    const pair = await issueCertificate({
      ca,
      commonName: "crd-hook",
      dnsNames: ["crd-hook.kubeplus.svc", "localhost"],
      ipAddresses: ["127.0.0.1"],
      usage: CertificateUsage.Server,
    });
    const cert = new X509Certificate(pair.certPem);
    expect(cert.subjectAltName).toBe(
      "DNS:crd-hook.kubeplus.svc, DNS:localhost, IP Address:127.0.0.1",
    );
    expect(cert.verify(new X509Certificate(ca.certPem).publicKey)).toBe(true);
    expect(cert.checkHost("crd-hook.kubeplus.svc")).toBe("crd-hook.kubeplus.svc");
    expect(cert.ca).toBe(false);
  });

  it("puts the user in CN and the groups in O for client certificates", async () => {
    const pair = await issueCertificate({
      ca,
      commonName: "alice",
      organizations: ["team-a", "team-b"],
      usage: CertificateUsage.Client,
    });
    const subject = new X509Certificate(pair.certPem).subject.split("\n");
    expect(subject).toEqual(["O=team-a", "O=team-b", "CN=alice"]);
  });

  it("asks for renewal near expiry and for a certificate of another CA", async () => {
    const now = new Date("2030-01-01T00:00:00Z");
    const pair = await issueCertificate({
      ca,
      commonName: "x",
      usage: CertificateUsage.Server,
      validityDays: 10,
      now,
    });
    const day = 24 * 3600 * 1000;
    expect(needsRenewal(pair, ca.certPem, 5 * day, now)).toBe(false);
    expect(needsRenewal(pair, ca.certPem, 11 * day, now)).toBe(true);
    const other = await createCertificateAuthority({ commonName: "other" });
    expect(needsRenewal(pair, other.certPem, 0, now)).toBe(true);
  });
});
