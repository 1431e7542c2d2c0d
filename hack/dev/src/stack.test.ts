import { describe, expect, it } from "vitest";
import { localValues, localValuesFile } from "./stack.js";

describe("make up's chart values", () => {
  it("run the images built here on the real nodes, and nothing else differs from the chart's defaults", () => {
    const values = localValues({
      realNodes: ["real-node-0"],
      network: { clusterCidr: "198.18.0.0/19", serviceCidr: "198.19.0.0/20" },
    });
    expect(values).toEqual({
      image: { registry: "localhost/kubeplus", pullPolicy: "IfNotPresent" },
      nats: { image: expect.stringMatching(/^localhost\/kubeplus\/nats:\d+\.\d+\.\d+$/) as string },
      nodeSelector: { "kubeplus.dev/real-node": "true" },
      tolerations: [{ key: "kubeplus.dev/real-node", operator: "Exists", effect: "NoSchedule" }],
      metricsCollector: { intervalSeconds: 10 },
      networkPolicy: { clusterCIDRs: ["198.18.0.0/19", "198.19.0.0/20"] },
    });
    // helm reads the file as YAML: JSON is YAML, under a comment saying where it comes from.
    const file = localValuesFile(values);
    expect(file.startsWith("# ")).toBe(true);
    expect(JSON.parse(file.replace(/^#.*\n/gm, ""))).toEqual(values);
  });

  it("refuses a control plane without real nodes, saying how to start one", () => {
    const network = { clusterCidr: "198.18.0.0/19", serviceCidr: "198.19.0.0/20" };
    expect(() => localValues({ realNodes: [], network })).toThrow(/one real node by default/);
  });
});
