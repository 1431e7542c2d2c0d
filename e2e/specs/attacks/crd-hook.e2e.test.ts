// Attacks on crd-hook's port (issue 16, seen item 6; deliver item 5): anyone who reaches it must not be able to post
// AdmissionReviews of their own. crd-hook answers only a client presenting a certificate of the apiserver's
// webhook-client CA, which the local control plane's apiserver presents through its AdmissionConfiguration.
import { readFileSync } from "node:fs";
import { request } from "node:https";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  compositionManifest,
  freePort,
  ManifestDir,
  platformNamespace,
  startCrdHook,
  tearDownPlatform,
  TestCluster,
  type RunningService,
} from "@kubeplus/testing";

const cluster = new TestCluster();
const manifests = new ManifestDir("attack-crd-hook");
let kp = "";
let port = 0;
let hook: RunningService;

/** A forged review: an instance of a generated kind, as if the apiserver asked. */
const forged = (namespace: string): string =>
  JSON.stringify({
    apiVersion: "admission.k8s.io/v1",
    kind: "AdmissionReview",
    request: {
      uid: "00000000-0000-0000-0000-000000000001",
      kind: { group: "platformapi.kubeplus", version: "v1alpha1", kind: "Anything" },
      resource: { group: "platformapi.kubeplus", version: "v1alpha1", resource: "anythings" },
      operation: "CREATE",
      name: "forged",
      namespace,
      userInfo: { username: "system:admin", groups: ["system:masters"] },
      object: {
        apiVersion: "platformapi.kubeplus/v1alpha1",
        kind: "Anything",
        metadata: { name: "forged", namespace },
      },
    },
  });

/** POSTs straight to crd-hook's port; resolves with the HTTP status, rejects when TLS refuses the client. */
function post(path: string, client: { cert?: string; key?: string } = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        path,
        method: "POST",
        rejectUnauthorized: false,
        headers: { "content-type": "application/json" },
        ...client,
      },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      },
    );
    req.on("error", reject);
    req.end(forged(kp));
  });
}

beforeAll(async () => {
  kp = await platformNamespace(cluster, "atk-hook");
  port = await freePort();
  hook = await startCrdHook(cluster, kp, port);
}, 120_000);

afterAll(async () => {
  await tearDownPlatform(cluster, {
    namespace: kp,
    generatedCrds: [],
    services: [hook],
    webhooks: true,
  });
});

describe("attacks on crd-hook's port", () => {
  it("refuses at TLS a forged AdmissionReview posted without a client certificate, or with a cluster admin's", async () => {
    await expect(post("/validate")).rejects.toThrow(/certificate|socket hang up|ECONNRESET/i);
    await expect(post("/mutate")).rejects.toThrow(/certificate|socket hang up|ECONNRESET/i);
    // A certificate the apiserver trusts (the cluster CA's admin) is not the apiserver's webhook client.
    const pki = join(cluster.state.runDir, "pki");
    const admin = {
      cert: readFileSync(join(pki, "admin.crt"), "utf8"),
      key: readFileSync(join(pki, "admin.key"), "utf8"),
    };
    await expect(post("/validate", admin)).rejects.toThrow(
      /certificate|socket hang up|ECONNRESET/i,
    );
  });

  it("still judges what the apiserver sends it: a bad composition is denied with crd-hook's own message", async () => {
    const bad = compositionManifest({
      name: "bad",
      namespace: kp,
      kind: "BadApp",
      plural: "Bad_Plural",
      chartURL: "file:///missing-1.0.0.tgz",
      chartName: "missing",
    });
    const result = await cluster.kubectl(["create", "-f", manifests.write("bad", bad)]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(
      'admission webhook "platform-as-code.crd-binding.v1" denied the request',
    );
    expect(result.stderr).toContain("'Bad_Plural' is not a valid plural");
  });
});
