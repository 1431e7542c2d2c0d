/**
 * Addresses and names of one local control plane's networks (docs/real-nodes.md has the diagram). Everything is in
 * the benchmarking range 198.18.0.0/15 (RFC 2544), never in 10/8, 172.16/12 or 192.168/16. Control planes that run
 * at the same time (one per test run) take different slots, so their real nodes never share an address or a name.
 *
 *   slot s (0..7)
 *   pods        198.18.(32s).0/19     real node i: 198.18.(32s+i).0/24; kwok's emulated pods: 198.18.(32s+16).0/20
 *   services    198.19.(16s).0/20     kubernetes: .1, kube-dns: .10
 *   node fabric 198.19.(240+s).0/24   host bridge kp<s>br: .1; real node i (eth0 in netns kp<s>-node<i>): .(10+i)
 */
export const MAX_SLOTS = 8;
export const MAX_REAL_NODES = 8;

export interface RealNodePlan {
  readonly index: number;
  /** The Node's name in the API. */
  readonly name: string;
  /** The network namespace the node's kubelet, containerd, kube-proxy and kube-router run in. */
  readonly netns: string;
  /** The host end of the node's veth, attached to the slot's bridge. */
  readonly hostVeth: string;
  /** The node's address on the fabric (its InternalIP). */
  readonly ip: string;
  /** The node's pod range (host-local IPAM, Node.spec.podCIDR). */
  readonly podCidr: string;
  /** The first address of the pod range: the node's CNI bridge, the pods' gateway. */
  readonly podGateway: string;
  /** The node's cgroup root (kubelet `cgroupRoot`), under every v1 hierarchy. */
  readonly cgroupRoot: string;
}

export interface NetworkPlan {
  readonly slot: number;
  readonly clusterCidr: string;
  readonly serviceCidr: string;
  readonly kubernetesServiceIp: string;
  readonly dnsServiceIp: string;
  readonly kwokPodCidr: string;
  /**
   * The address kwok's nodes report as their InternalIP (where their kubelet endpoints are reached): the first real
   * node's, whose forwarder carries the connection to kwok on the host's loopback, so that pods (the chart's
   * metrics-collector) and the apiserver's node proxy reach them too; loopback when there is no real node.
   */
  readonly kwokNodeIp: string;
  readonly fabricCidr: string;
  readonly bridge: string;
  readonly hostIp: string;
  readonly fabricPrefix: number;
  readonly nodes: readonly RealNodePlan[];
}

export class PlanError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PlanError";
  }
}

export function networkPlan(slot: number, realNodes: number): NetworkPlan {
  if (!Number.isInteger(slot) || slot < 0 || slot >= MAX_SLOTS)
    throw new PlanError(`slot must be 0..${MAX_SLOTS - 1}, got ${slot}`);
  if (!Number.isInteger(realNodes) || realNodes < 0 || realNodes > MAX_REAL_NODES)
    throw new PlanError(`--real-nodes must be 0..${MAX_REAL_NODES}, got ${realNodes}`);
  const fabric = `198.19.${240 + slot}`;
  return {
    slot,
    clusterCidr: `198.18.${32 * slot}.0/19`,
    serviceCidr: `198.19.${16 * slot}.0/20`,
    kubernetesServiceIp: `198.19.${16 * slot}.1`,
    dnsServiceIp: `198.19.${16 * slot}.10`,
    kwokPodCidr: `198.18.${32 * slot + 16}.0/20`,
    kwokNodeIp: realNodes > 0 ? `${fabric}.10` : "127.0.0.1",
    fabricCidr: `${fabric}.0/24`,
    bridge: `kp${slot}br`,
    hostIp: `${fabric}.1`,
    fabricPrefix: 24,
    nodes: Array.from({ length: realNodes }, (_, i) => ({
      index: i,
      name: `real-node-${i}`,
      netns: `kp${slot}-node${i}`,
      hostVeth: `kp${slot}n${i}`,
      ip: `${fabric}.${10 + i}`,
      podCidr: `198.18.${32 * slot + i}.0/24`,
      podGateway: `198.18.${32 * slot + i}.1`,
      cgroupRoot: `/kubeplus-${slot}-node${i}`,
    })),
  };
}

/** Every address the plan uses lies in 198.18.0.0/15: a guard the tests run over every slot. */
export function addressesOf(plan: NetworkPlan): string[] {
  const strip = (cidr: string): string => cidr.split("/")[0] ?? cidr;
  return [
    strip(plan.clusterCidr),
    strip(plan.serviceCidr),
    plan.kubernetesServiceIp,
    plan.dnsServiceIp,
    strip(plan.kwokPodCidr),
    strip(plan.fabricCidr),
    plan.hostIp,
    ...plan.nodes.flatMap((n) => [n.ip, strip(n.podCidr), n.podGateway]),
  ];
}

export function inBenchmarkRange(ip: string): boolean {
  const [a, b] = ip.split(".").map(Number);
  return a === 198 && (b === 18 || b === 19);
}
