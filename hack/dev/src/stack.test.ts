import { describe, expect, it } from "vitest";
import { consoleAccess, localValues, localValuesFile } from "./stack.js";

describe("make up's chart values", () => {
  it("run the images built here on the real nodes, and nothing else differs from the chart's defaults", () => {
    const values = localValues({
      realNodes: ["real-node-0"],
      apiServerUrl: "https://127.0.0.1:36443",
      network: { clusterCidr: "198.18.0.0/19", serviceCidr: "198.19.0.0/20" },
    });
    expect(values).toEqual({
      image: { registry: "localhost/kubeplus", pullPolicy: "IfNotPresent" },
      nats: { image: expect.stringMatching(/^localhost\/kubeplus\/nats:\d+\.\d+\.\d+$/) as string },
      nodeSelector: { "kubeplus.dev/real-node": "true" },
      tolerations: [{ key: "kubeplus.dev/real-node", operator: "Exists", effect: "NoSchedule" }],
      metricsCollector: { intervalSeconds: 10 },
      networkPolicy: { clusterCIDRs: ["198.18.0.0/19", "198.19.0.0/20"] },
      // The console runs (the chart leaves it off), reaching the apiserver's port at the nodes' forwarders only.
      console: { enabled: true, networkPolicy: { apiServerPorts: [36443] } },
    });
    // helm reads the file as YAML: JSON is YAML, under a comment saying where it comes from.
    const file = localValuesFile(values);
    expect(file.startsWith("# ")).toBe(true);
    expect(JSON.parse(file.replace(/^#.*\n/gm, ""))).toEqual(values);
  });

  it("refuses a control plane without real nodes, saying how to start one", () => {
    const network = { clusterCidr: "198.18.0.0/19", serviceCidr: "198.19.0.0/20" };
    expect(() =>
      localValues({ realNodes: [], apiServerUrl: "https://127.0.0.1:36443", network }),
    ).toThrow(/one real node by default/);
  });
});

describe("make up's console access", () => {
  it("port-forwards the console's Service to 127.0.0.1 only, and names the kubeconfigs to sign in with", () => {
    const lines = consoleAccess({
      namespace: "kubeplus",
      providerKubeconfig: "/run/stack/kubeplus-saas-provider.json",
      adminKubeconfig: "/run/cluster/admin.kubeconfig",
    }).join("\n");
    expect(lines).toContain(
      "kubectl --kubeconfig /run/cluster/admin.kubeconfig port-forward -n kubeplus svc/console 8080:80 --address 127.0.0.1",
    );
    expect(lines).toContain("http://localhost:8080/");
    expect(lines).toContain("/run/stack/kubeplus-saas-provider.json");
    // The built-in consumer's kubeconfig, as the kubeconfig-generator keeps it.
    expect(lines).toMatch(
      /get secret kubeplus-saas-consumer-kubeconfig -n kubeplus \\\n\s+-o jsonpath='\{\.data\.kubeplus-saas-consumer\\\.json\}' \| base64 -d/,
    );
  });
});
