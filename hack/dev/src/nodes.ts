import { KWOK_NODE_ANNOTATION } from "./components.js";

/** The shape of a fake node: distinct labels so that node isolation (nodeSelector) has something to choose. */
export interface NodeShape {
  readonly name: string;
  readonly zone: string;
  readonly pool: string;
  readonly instanceType: string;
  readonly cpu: string;
  readonly memory: string;
  readonly pods: string;
}

const SHAPES = [
  { instanceType: "kwok.standard-4", cpu: "4", memory: "16Gi" },
  { instanceType: "kwok.standard-8", cpu: "8", memory: "32Gi" },
  { instanceType: "kwok.standard-16", cpu: "16", memory: "64Gi" },
] as const;

/** `count` nodes named kwok-node-<i>, cycling through zones a/b/c, pools and machine sizes. */
export function nodeShapes(count: number, maxPods = 110): NodeShape[] {
  return Array.from({ length: count }, (_, i) => {
    const shape = SHAPES[i % SHAPES.length] ?? SHAPES[0];
    return {
      name: `kwok-node-${i}`,
      zone: `zone-${String.fromCharCode(97 + (i % 3))}`,
      pool: `pool-${i}`,
      instanceType: shape.instanceType,
      cpu: shape.cpu,
      memory: shape.memory,
      pods: String(maxPods),
    };
  });
}

/** The Node object kwok takes over: a real Node in the API, with kwok's annotation and a kubelet metrics path. */
export function nodeManifest(shape: NodeShape): Record<string, unknown> {
  const resources = {
    cpu: shape.cpu,
    memory: shape.memory,
    pods: shape.pods,
    "ephemeral-storage": "100Gi",
  };
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name: shape.name,
      annotations: {
        [KWOK_NODE_ANNOTATION]: "fake",
        "node.alpha.kubernetes.io/ttl": "0",
        "metrics.k8s.io/resource-metrics-path": `/metrics/nodes/${shape.name}/metrics/resource`,
      },
      labels: {
        "kubernetes.io/hostname": shape.name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "node.kubernetes.io/instance-type": shape.instanceType,
        "topology.kubernetes.io/zone": shape.zone,
        "kubeplus.dev/pool": shape.pool,
        type: "kwok",
      },
    },
    status: { allocatable: resources, capacity: resources },
  };
}
