import { describe, expect, it } from "vitest";
import { ingressUrls, serviceUrls } from "./appurl.js";

describe("appurl", () => {
  it("gives https for Ingress hosts under TLS, http otherwise, with their paths", () => {
    expect(
      ingressUrls("web", {
        spec: {
          tls: [{ hosts: ["shop.example.com"] }],
          rules: [
            { host: "shop.example.com", http: { paths: [{ path: "/" }, { path: "/api" }] } },
            { host: "plain.example.com" },
            {},
          ],
        },
      }),
    ).toEqual([
      { url: "https://shop.example.com/", source: "Ingress/web" },
      { url: "https://shop.example.com/api", source: "Ingress/web" },
      { url: "http://plain.example.com/", source: "Ingress/web" },
    ]);
  });

  it("uses a LoadBalancer's external address (not its cluster IP) and NodePorts on every node", () => {
    expect(
      serviceUrls(
        {
          metadata: { name: "lb" },
          spec: { type: "LoadBalancer", ports: [{ port: 443 }, { port: 8080 }] },
          status: { loadBalancer: { ingress: [{ ip: "203.0.113.7" }] } },
        },
        [],
      ),
    ).toEqual([
      { url: "https://203.0.113.7", source: "Service/lb" },
      { url: "http://203.0.113.7:8080", source: "Service/lb" },
    ]);
    expect(
      serviceUrls(
        {
          metadata: { name: "np" },
          spec: { type: "NodePort", ports: [{ port: 80, nodePort: 30080 }] },
        },
        ["10.0.0.1", "10.0.0.2"],
      ).map((u) => u.url),
    ).toEqual(["http://10.0.0.1:30080", "http://10.0.0.2:30080"]);
    expect(serviceUrls({ metadata: { name: "c" }, spec: { type: "ClusterIP" } }, ["x"])).toEqual(
      [],
    );
  });
});
