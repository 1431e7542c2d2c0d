import type { NetworkPlan, RealNodePlan } from "./network-plan.js";

/**
 * The configuration files of one real node (pure: the host shell in real-nodes.ts writes them). Every path lives
 * under the node's folder in the run folder, so that control planes running side by side share nothing and `down`
 * removes everything by removing that folder.
 */
export interface NodeDirs {
  readonly root: string;
  readonly containerdRoot: string;
  readonly containerdState: string;
  readonly containerdSocket: string;
  readonly registryHosts: string;
  readonly cniConf: string;
  readonly cniIpam: string;
  readonly kubeletRoot: string;
  readonly podLogs: string;
  readonly kubeletConfig: string;
  readonly kubeletKubeconfig: string;
  readonly kubeProxyConfig: string;
  readonly kubeProxyKubeconfig: string;
  readonly kubeRouterKubeconfig: string;
  readonly resolvConf: string;
}

export function nodeDirs(nodesDir: string, node: RealNodePlan): NodeDirs {
  const root = `${nodesDir}/${node.name}`;
  return {
    root,
    containerdRoot: `${root}/containerd/root`,
    containerdState: `${root}/containerd/state`,
    containerdSocket: `${root}/containerd/containerd.sock`,
    registryHosts: `${root}/containerd/certs.d`,
    cniConf: `${root}/cni/net.d`,
    cniIpam: `${root}/cni/ipam`,
    kubeletRoot: `${root}/kubelet`,
    podLogs: `${root}/pod-logs`,
    kubeletConfig: `${root}/kubelet-config.yaml`,
    kubeletKubeconfig: `${root}/kubelet.kubeconfig`,
    kubeProxyConfig: `${root}/kube-proxy-config.yaml`,
    kubeProxyKubeconfig: `${root}/kube-proxy.kubeconfig`,
    kubeRouterKubeconfig: `${root}/kube-router.kubeconfig`,
    resolvConf: `${root}/resolv.conf`,
  };
}

/** The label and taint every real node carries: only pods that tolerate it land there. */
export const REAL_NODE_LABEL = "kubeplus.dev/real-node";
export const REAL_NODE_TAINT = {
  key: REAL_NODE_LABEL,
  value: "true",
  effect: "NoSchedule",
} as const;

export const CNI_BIN_DIR = "/usr/lib/cni";
export const RUNC = "/usr/sbin/runc";

/** containerd 2.x, configuration version 3: CRI with runc (cgroupfs), our CNI folder, a locally built pause image. */
export function containerdConfig(dirs: NodeDirs, sandboxImage: string): string {
  return `version = 3
root = "${dirs.containerdRoot}"
state = "${dirs.containerdState}"
# Plugins that would reach outside the node's folder or are not needed here.
disabled_plugins = [
  "io.containerd.nri.v1.nri",
  "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs",
  "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.blockfile",
  "io.containerd.snapshotter.v1.erofs",
  "io.containerd.tracing.processor.v1.otlp",
  "io.containerd.internal.v1.tracing",
]

[grpc]
  address = "${dirs.containerdSocket}"

[ttrpc]
  address = "${dirs.containerdSocket}.ttrpc"

[debug]
  address = ""

[metrics]
  address = ""

[plugins]
  [plugins.'io.containerd.cri.v1.runtime']
    enable_selinux = false
    # Pods' network namespaces under the node's state folder, not the host's /var/run/netns.
    netns_mounts_under_state_dir = true
    # These machines deny CAP_SYS_RESOURCE, so a negative oom_score_adj (pause: -998) cannot be set; clamp to >= 0.
    restrict_oom_score_adj = true
    [plugins.'io.containerd.cri.v1.runtime'.containerd]
      default_runtime_name = "runc"
      [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
        runtime_type = "io.containerd.runc.v2"
        [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
          BinaryName = "${RUNC}"
          Root = "${dirs.containerdState}/runc"
          SystemdCgroup = false
    [plugins.'io.containerd.cri.v1.runtime'.cni]
      bin_dirs = ["${CNI_BIN_DIR}"]
      conf_dir = "${dirs.cniConf}"
      max_conf_num = 1
  [plugins.'io.containerd.cri.v1.images']
    snapshotter = "overlayfs"
    [plugins.'io.containerd.cri.v1.images'.pinned_images]
      sandbox = "${sandboxImage}"
    [plugins.'io.containerd.cri.v1.images'.registry]
      config_path = "${dirs.registryHosts}"
  [plugins.'io.containerd.grpc.v1.cri']
    [plugins.'io.containerd.grpc.v1.cri'.x509_key_pair_streaming]
      tls_cert_file = ""
      tls_key_file = ""
`;
}

/**
 * The pod network of one node: a bridge with host-local addresses from the node's range. Pods get a route to
 * 198.18.0.0/15 only, no default route: a packet for any other address has nowhere to go.
 */
export function cniConflist(plan: NetworkPlan, node: RealNodePlan, dirs: NodeDirs): string {
  return JSON.stringify(
    {
      cniVersion: "1.0.0",
      name: `kubeplus-s${plan.slot}`,
      plugins: [
        {
          type: "bridge",
          bridge: "cni0",
          isGateway: true,
          ipMasq: false,
          hairpinMode: true,
          ipam: {
            type: "host-local",
            dataDir: dirs.cniIpam,
            ranges: [[{ subnet: node.podCidr, gateway: node.podGateway }]],
            routes: [{ dst: "198.18.0.0/15" }],
          },
        },
        { type: "portmap", capabilities: { portMappings: true } },
      ],
    },
    null,
    2,
  );
}

export interface KubeletFiles {
  readonly caFile: string;
  readonly servingCert: string;
  readonly servingKey: string;
}

/** Kubelet v1.35 on this host's cgroup v1 hierarchy (failCgroupV1: false), cgroupfs driver, our own cgroup root. */
export function kubeletConfig(
  plan: NetworkPlan,
  node: RealNodePlan,
  dirs: NodeDirs,
  files: KubeletFiles,
): string {
  const config = {
    apiVersion: "kubelet.config.k8s.io/v1beta1",
    kind: "KubeletConfiguration",
    failCgroupV1: false,
    cgroupDriver: "cgroupfs",
    cgroupRoot: node.cgroupRoot,
    cgroupsPerQOS: true,
    address: node.ip,
    port: 10250,
    readOnlyPort: 0,
    healthzBindAddress: "127.0.0.1",
    healthzPort: 10248,
    authentication: {
      anonymous: { enabled: false },
      webhook: { enabled: true },
      x509: { clientCAFile: files.caFile },
    },
    authorization: { mode: "Webhook" },
    tlsCertFile: files.servingCert,
    tlsPrivateKeyFile: files.servingKey,
    clusterDomain: "cluster.local",
    clusterDNS: [plan.dnsServiceIp],
    containerRuntimeEndpoint: `unix://${dirs.containerdSocket}`,
    podLogsDir: dirs.podLogs,
    resolvConf: dirs.resolvConf,
    failSwapOn: false,
    // This machine's disk is shared by many things; evict only when it is really full.
    evictionHard: {
      "memory.available": "100Mi",
      "nodefs.available": "1%",
      "imagefs.available": "1%",
      "nodefs.inodesFree": "1%",
    },
    imageGCHighThresholdPercent: 99,
    imageGCLowThresholdPercent: 98,
    // Locally built images are never pulled again; nothing else could be.
    serializeImagePulls: false,
    maxPods: 110,
    registerWithTaints: [REAL_NODE_TAINT],
    protectKernelDefaults: false,
    enableServer: true,
    staticPodPath: "",
    syncFrequency: "10s",
    nodeStatusUpdateFrequency: "10s",
    runtimeRequestTimeout: "2m",
    // Volume stats (kubelet_volume_stats_*, /stats/summary) every 10 s instead of every minute: metering tests
    // wait for a pass that sees a file just written.
    volumeStatsAggPeriod: "10s",
    localStorageCapacityIsolation: true,
    enforceNodeAllocatable: ["pods"],
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}

/** kube-proxy in iptables mode inside the node's namespace; it leaves the host's conntrack settings alone. */
export function kubeProxyConfig(plan: NetworkPlan, node: RealNodePlan, dirs: NodeDirs): string {
  const config = {
    apiVersion: "kubeproxy.config.k8s.io/v1alpha1",
    kind: "KubeProxyConfiguration",
    mode: "iptables",
    clusterCIDR: plan.clusterCidr,
    hostnameOverride: node.name,
    bindAddress: node.ip,
    healthzBindAddress: "127.0.0.1:10256",
    metricsBindAddress: "127.0.0.1:10249",
    clientConnection: { kubeconfig: dirs.kubeProxyKubeconfig },
    conntrack: {
      maxPerCore: 0,
      min: 0,
      tcpEstablishedTimeout: "0s",
      tcpCloseWaitTimeout: "0s",
      udpTimeout: "0s",
      udpStreamTimeout: "0s",
    },
    nodePortAddresses: [`${node.ip}/32`],
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}

/** CoreDNS answers the cluster's names (no upstream: nothing outside the cluster is resolvable). */
export function corefile(kubeconfig: string, bindIp: string): string {
  return `.:53 {
    bind ${bindIp}
    errors
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        kubeconfig ${kubeconfig}
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
        ttl 5
    }
    cache 5
}
`;
}

/** kube-router as the NetworkPolicy enforcer only: no routing, no service proxy (kube-proxy does that). */
export function kubeRouterArgs(plan: NetworkPlan, node: RealNodePlan, dirs: NodeDirs): string[] {
  return [
    `--kubeconfig=${dirs.kubeRouterKubeconfig}`,
    `--hostname-override=${node.name}`,
    "--run-firewall=true",
    "--run-router=false",
    "--run-service-proxy=false",
    "--enable-ipv4=true",
    "--enable-ipv6=false",
    `--service-cluster-ip-range=${plan.serviceCidr}`,
    "--metrics-port=0",
    "--health-port=0",
    "--iptables-sync-period=30s",
    "--ipvs-sync-period=30s",
    "--v=1",
  ];
}
