// Proof of realism: the apiserver really calls a mutating admission webhook over HTTPS and applies its patch.
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { AdmissionregistrationV1Api } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TestCluster, waitFor } from "@kubeplus/testing";
import { CertificateUsage, createCertificateAuthority, issueCertificate } from "@kubeplus/tls";

const cluster = new TestCluster();
const admission = cluster.kc.makeApiClient(AdmissionregistrationV1Api);

interface AdmissionReview {
  request: { uid: string; kind: { kind: string }; name?: string; namespace?: string };
}

describe("mutating admission webhook", () => {
  let server: Server;
  let caPem: string;
  const seen: AdmissionReview["request"][] = [];

  beforeAll(async () => {
    const ca = await createCertificateAuthority({ commonName: "webhook-test-ca" });
    caPem = ca.certPem;
    const serving = await issueCertificate({
      ca,
      commonName: "webhook",
      ipAddresses: ["127.0.0.1"],
      usage: CertificateUsage.Server,
    });
    server = createServer({ cert: serving.certPem, key: serving.keyPem }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const review = JSON.parse(Buffer.concat(chunks).toString()) as AdmissionReview;
        seen.push(review.request);
        const patch = [
          { op: "add", path: "/metadata/labels", value: { "mutated-by": "e2e-webhook" } },
        ];
        res.setHeader("content-type", "application/json");
        res.end(
          JSON.stringify({
            apiVersion: "admission.k8s.io/v1",
            kind: "AdmissionReview",
            response: {
              uid: review.request.uid,
              allowed: true,
              patchType: "JSONPatch",
              patch: Buffer.from(JSON.stringify(patch)).toString("base64"),
            },
          }),
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it("is called by the apiserver with the object, and its JSONPatch lands on the stored object", async () => {
    const namespace = await cluster.freshNamespace("hook", { "e2e-webhook": "on" });
    const name = `e2e-mutate-${namespace}`;
    const port = (server.address() as AddressInfo).port;
    await admission.createMutatingWebhookConfiguration({
      body: {
        metadata: { name },
        webhooks: [
          {
            name: "label.e2e.kubeplus.dev",
            admissionReviewVersions: ["v1"],
            sideEffects: "None",
            failurePolicy: "Fail",
            timeoutSeconds: 5,
            clientConfig: {
              url: `https://127.0.0.1:${port}/mutate`,
              caBundle: Buffer.from(caPem).toString("base64"),
            },
            // Scoped to this test's namespace only, so that nothing else in the cluster depends on it.
            namespaceSelector: { matchLabels: { "e2e-webhook": "on" } },
            rules: [
              {
                apiGroups: [""],
                apiVersions: ["v1"],
                operations: ["CREATE"],
                resources: ["configmaps"],
              },
            ],
          },
        ],
      },
    });
    try {
      // The apiserver picks up new webhook configurations asynchronously: create until one is mutated.
      let attempt = 0;
      const mutated = await waitFor(
        async () => {
          const cm = await cluster.core.createNamespacedConfigMap({
            namespace,
            body: { metadata: { name: `cm-${attempt++}` }, data: { k: "v" } },
          });
          return cm.metadata?.labels?.["mutated-by"] === "e2e-webhook" ? cm : undefined;
        },
        { what: "a ConfigMap mutated by the webhook", timeoutMs: 20_000, intervalMs: 250 },
      );
      const stored = await cluster.core.readNamespacedConfigMap({
        name: mutated.metadata!.name!,
        namespace,
      });
      expect(stored.metadata?.labels).toEqual({ "mutated-by": "e2e-webhook" });
      expect(seen.some((r) => r.kind.kind === "ConfigMap" && r.namespace === namespace)).toBe(true);
    } finally {
      await admission.deleteMutatingWebhookConfiguration({ name });
    }
  });
});
