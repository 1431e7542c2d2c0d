import { describe, expect, it } from "vitest";
import { eventRows, ingressUrls, podRow, releaseNamespace, serviceRow } from "./objects.js";

const now = new Date("2026-12-03T12:00:00Z");

describe("releaseNamespace", () => {
  it("reads status.namespace, else the namespace of status.helmrelease", () => {
    expect(releaseNamespace({ namespace: "shop-3f9a1c07", helmrelease: "other:x" })).toBe(
      "shop-3f9a1c07",
    );
    expect(releaseNamespace({ helmrelease: "shop-3f9a1c07:shop" })).toBe("shop-3f9a1c07");
    expect(releaseNamespace({})).toBeUndefined();
    expect(releaseNamespace(null)).toBeUndefined();
  });
});

describe("podRow", () => {
  it("prints READY, STATUS and RESTARTS as kubectl get pods does", () => {
    const row = podRow(
      {
        metadata: { name: "web-1", creationTimestamp: "2026-12-03T11:59:00Z" },
        spec: {
          containers: [{ name: "web" }, { name: "sidecar" }],
          initContainers: [{ name: "init" }],
        },
        status: {
          phase: "Running",
          containerStatuses: [
            { name: "web", ready: true, restartCount: 1 },
            {
              name: "sidecar",
              ready: false,
              restartCount: 2,
              state: { waiting: { reason: "CrashLoopBackOff" } },
            },
          ],
        },
      },
      now,
    );
    expect(row).toEqual({
      name: "web-1",
      ready: "1/2",
      status: "CrashLoopBackOff",
      restarts: 3,
      age: "60s",
      containers: ["init", "web", "sidecar"],
    });
  });
});

describe("serviceRow", () => {
  it("gives a LoadBalancer's URLs and kubectl's PORTS", () => {
    const row = serviceRow({
      metadata: { name: "web" },
      spec: {
        type: "LoadBalancer",
        clusterIP: "10.0.0.1",
        ports: [
          { port: 80, nodePort: 30080 },
          { port: 8443, name: "https" },
        ],
      },
      status: { loadBalancer: { ingress: [{ ip: "198.18.0.50" }] } },
    });
    expect(row.ports).toBe("80:30080/TCP,8443/TCP");
    expect(row.urls).toEqual(["http://198.18.0.50", "https://198.18.0.50:8443"]);
  });
});

describe("eventRows", () => {
  it("sorts events oldest first and reads the newest timestamp each has", () => {
    const rows = eventRows(
      [
        {
          metadata: { name: "b" },
          type: "Warning",
          reason: "Failed",
          lastTimestamp: "2026-12-03T11:59:50Z",
          source: { component: "helmer" },
        },
        {
          metadata: { name: "a" },
          type: "Normal",
          reason: "Installed",
          eventTime: "2026-12-03T11:58:00Z",
          reportingComponent: "kubeplus",
        },
      ],
      now,
    );
    expect(rows.map((r) => [r.key, r.age, r.from])).toEqual([
      ["a", "2m", "kubeplus"],
      ["b", "10s", "helmer"],
    ]);
  });
});

describe("ingressUrls", () => {
  it("gives each rule's host and path, https where TLS names the host, the load balancer for a rule without host", () => {
    const urls = ingressUrls({
      spec: {
        tls: [{ hosts: ["shop.example"] }],
        rules: [
          { host: "shop.example", http: { paths: [{ path: "/" }, { path: "/api" }] } },
          { host: "plain.example" },
          { http: { paths: [{ path: "/x" }] } },
        ],
      },
      status: { loadBalancer: { ingress: [{ ip: "198.18.0.60" }] } },
    });
    expect(urls).toEqual([
      "https://shop.example/",
      "https://shop.example/api",
      "http://plain.example/",
      "http://198.18.0.60/x",
    ]);
  });
});
