import { describe, expect, it } from "vitest";
import { StaticAccess } from "@kubeplus/kube/lite";
import { kubeletCredentials } from "./collector.js";

const server = "https://127.0.0.1:6443";

describe("credentials the collector sends to kubelets (KUBELET_ACCESS=direct)", () => {
  it("sends a client-certificate identity's certificate and key, not only its headers", async () => {
    const cert = Buffer.from("client certificate");
    const key = Buffer.from("client key");
    const auth = await kubeletCredentials(
      new StaticAccess({ server, ca: Buffer.from("apiserver ca"), cert, key }),
    );
    expect(auth.cert).toEqual(cert);
    expect(auth.key).toEqual(key);
    // The apiserver's CA and agent are not the kubelets'.
    expect(auth).not.toHaveProperty("agent");
    expect(auth).not.toHaveProperty("ca");
  });

  it("sends a token identity's bearer token, and no certificate", async () => {
    const auth = await kubeletCredentials(new StaticAccess({ server, token: "t0k3n" }));
    expect(auth.headers).toMatchObject({ authorization: "Bearer t0k3n" });
    expect(auth).not.toHaveProperty("cert");
  });
});
