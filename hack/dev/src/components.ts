import { join } from "node:path";
import { natsAuthFiles } from "./nats-auth.js";
import type { Pki } from "./pki.js";
import type { NetworkPlan } from "./network-plan.js";
import type { RunLayout } from "./paths.js";

/** Loopback ports of one control plane. */
export interface Ports {
  readonly etcd: number;
  readonly etcdPeer: number;
  readonly apiServer: number;
  readonly controllerManager: number;
  readonly scheduler: number;
  readonly kwok: number;
  readonly nats: number;
  readonly natsMonitor: number;
}

export const PORT_NAMES = [
  "etcd",
  "etcdPeer",
  "apiServer",
  "controllerManager",
  "scheduler",
  "kwok",
  "nats",
  "natsMonitor",
] as const satisfies readonly (keyof Ports)[];

/** Paths of the pinned binaries (hack/tools/ensure-tools.sh --env). */
export interface ToolPaths {
  readonly etcd: string;
  readonly kubeApiServer: string;
  readonly kubeControllerManager: string;
  readonly kubeScheduler: string;
  readonly kubectl: string;
  readonly kwok: string;
  readonly helm: string;
  readonly natsServer: string;
  /** CNCF distribution's registry (oci:// chart tests). */
  readonly registry: string;
  /** Prometheus, unpacked from Debian's package (the scrape test). */
  readonly prometheus: string;
  /** The oldest Node.js the README names and the current LTS: the plugins' test runs them on both. */
  readonly nodeOldest: string;
  readonly nodeLts: string;
  /** The real nodes (real-nodes.ts): kubelet, kube-proxy, containerd and its runc shim, ctr, CoreDNS, kube-router. */
  readonly kubelet: string;
  readonly kubeProxy: string;
  readonly containerd: string;
  readonly containerdShim: string;
  readonly ctr: string;
  readonly coredns: string;
  readonly kubeRouter: string;
}

export interface ComponentContext {
  readonly ports: Ports;
  readonly pki: Pki;
  readonly layout: RunLayout;
  readonly kubeconfigs: {
    readonly controllerManager: string;
    readonly scheduler: string;
    readonly kwok: string;
  };
  /** Directory holding our kwok Stage configuration files. */
  readonly kwokConfigDir: string;
  /** Extra kube-apiserver flags (`up --apiserver-arg`), for investigations such as an audit log. */
  readonly apiServerArgs?: readonly string[];
  /** Service, pod and node addresses (network-plan.ts). */
  readonly network: NetworkPlan;
}

/** How to start one component, and how to know it is ready. */
export interface ComponentSpec {
  readonly name: string;
  /** A pinned tool, or `node` for a component of our own (run by the Node binary running `up`). */
  readonly binary: keyof ToolPaths | "node";
  readonly args: readonly string[];
}

const loopback = "127.0.0.1";

export function etcdSpec({ ports, layout }: ComponentContext): ComponentSpec {
  const client = `http://${loopback}:${ports.etcd}`;
  const peer = `http://${loopback}:${ports.etcdPeer}`;
  return {
    name: "etcd",
    binary: "etcd",
    args: [
      "--name=kubeplus-dev",
      `--data-dir=${layout.etcdData}`,
      `--listen-client-urls=${client}`,
      `--advertise-client-urls=${client}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=kubeplus-dev=${peer}`,
      "--unsafe-no-fsync=true",
      "--auto-compaction-retention=1",
      "--quota-backend-bytes=8589934592",
      "--log-level=warn",
    ],
  };
}

/** The admission plugins the product relies on (all in the default set; named here so that nobody drops one). */
export const ADMISSION_PLUGINS = [
  "NamespaceLifecycle",
  "LimitRanger",
  "ServiceAccount",
  "PodSecurity",
  "NodeRestriction",
  "ResourceQuota",
  "MutatingAdmissionWebhook",
  "ValidatingAdmissionPolicy",
  "ValidatingAdmissionWebhook",
];

export function apiServerSpec({
  ports,
  pki,
  network,
  apiServerArgs = [],
}: ComponentContext): ComponentSpec {
  return {
    name: "kube-apiserver",
    binary: "kubeApiServer",
    args: [
      `--etcd-servers=http://${loopback}:${ports.etcd}`,
      `--bind-address=${loopback}`,
      `--advertise-address=${loopback}`,
      `--secure-port=${ports.apiServer}`,
      `--cert-dir=${pki.dir}`,
      `--tls-cert-file=${pki.cert("apiserver")}`,
      `--tls-private-key-file=${pki.key("apiserver")}`,
      `--client-ca-file=${pki.caCert}`,
      "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
      `--service-account-key-file=${pki.serviceAccountPub}`,
      `--service-account-signing-key-file=${pki.serviceAccountKey}`,
      `--service-cluster-ip-range=${network.serviceCidr}`,
      "--authorization-mode=Node,RBAC",
      `--enable-admission-plugins=${ADMISSION_PLUGINS.join(",")}`,
      "--allow-privileged=true",
      "--endpoint-reconciler-type=none",
      `--kubelet-certificate-authority=${pki.caCert}`,
      `--kubelet-client-certificate=${pki.cert("apiserver-kubelet-client")}`,
      `--kubelet-client-key=${pki.key("apiserver-kubelet-client")}`,
      "--kubelet-preferred-address-types=InternalIP,Hostname",
      `--requestheader-client-ca-file=${pki.frontProxyCaCert}`,
      "--requestheader-allowed-names=front-proxy-client",
      "--requestheader-username-headers=X-Remote-User",
      "--requestheader-group-headers=X-Remote-Group",
      "--requestheader-extra-headers-prefix=X-Remote-Extra-",
      `--proxy-client-cert-file=${pki.cert("front-proxy-client")}`,
      `--proxy-client-key-file=${pki.key("front-proxy-client")}`,
      "--profiling=false",
      "--v=1",
      // The apiserver runs on the host, where no kube-proxy turns a ClusterIP into a pod: webhooks (crd-hook as the
      // chart's pod, behind its Service) and aggregated APIs are called at one of the Service's endpoints instead,
      // a pod address the host routes to its real node (real-nodes.ts).
      ...(network.nodes.length > 0 ? ["--enable-aggregator-routing=true"] : []),
      ...apiServerArgs,
    ],
  };
}

export function controllerManagerSpec({
  ports,
  pki,
  kubeconfigs,
  layout,
}: ComponentContext): ComponentSpec {
  const kc = kubeconfigs.controllerManager;
  return {
    name: "kube-controller-manager",
    binary: "kubeControllerManager",
    args: [
      `--kubeconfig=${kc}`,
      `--authentication-kubeconfig=${kc}`,
      `--authorization-kubeconfig=${kc}`,
      `--bind-address=${loopback}`,
      `--secure-port=${ports.controllerManager}`,
      `--cert-dir=${join(layout.root, "controller-manager")}`,
      "--authorization-always-allow-paths=/healthz,/readyz,/livez,/metrics",
      "--leader-elect=false",
      "--use-service-account-credentials=true",
      `--service-account-private-key-file=${pki.serviceAccountKey}`,
      `--root-ca-file=${pki.caCert}`,
      `--cluster-signing-cert-file=${pki.caCert}`,
      `--cluster-signing-key-file=${pki.caKey}`,
      "--controllers=*",
      // kwok renews node leases; give fake nodes the same grace as real ones.
      "--node-monitor-grace-period=50s",
      // Client-side rate limits of a production-sized control plane (the defaults, 20 requests per second per
      // controller, throttled the Deployment and ReplicaSet controllers below what this host serves).
      "--kube-api-qps=100",
      "--kube-api-burst=200",
      "--profiling=false",
      "--v=1",
    ],
  };
}

export function schedulerSpec({ ports, kubeconfigs, layout }: ComponentContext): ComponentSpec {
  const kc = kubeconfigs.scheduler;
  return {
    name: "kube-scheduler",
    binary: "kubeScheduler",
    args: [
      `--kubeconfig=${kc}`,
      `--authentication-kubeconfig=${kc}`,
      `--authorization-kubeconfig=${kc}`,
      `--bind-address=${loopback}`,
      `--secure-port=${ports.scheduler}`,
      `--cert-dir=${join(layout.root, "scheduler")}`,
      "--authorization-always-allow-paths=/healthz,/readyz,/livez,/metrics",
      "--leader-elect=false",
      "--profiling=false",
      "--v=1",
    ],
  };
}

/** Annotation that hands a Node to our kwok controller (and to no other). */
export const KWOK_NODE_ANNOTATION = "kwok.x-k8s.io/node";

/** Where `up` writes the kwok ClusterLogs configuration (it names the log file by absolute path). */
export function kwokLogsConfigPath(runDir: string): string {
  return join(runDir, "kwok-logs.yaml");
}

/**
 * Container logs emulated by kwok: every container of every pod answers `kubectl logs` with the lines of
 * hack/dev/kwok/emulated-container-logs.txt (the real path through the apiserver to the node's kubelet endpoint).
 */
export function kwokLogsConfig(kwokConfigDir: string): string {
  return [
    "apiVersion: kwok.x-k8s.io/v1alpha1",
    "kind: ClusterLogs",
    "metadata:",
    "  name: emulated-container-logs",
    "spec:",
    "  selector: {}",
    "  logs:",
    `    - logsFile: ${JSON.stringify(join(kwokConfigDir, "emulated-container-logs.txt"))}`,
    "      follow: false",
    "",
  ].join("\n");
}

export function kwokSpec({
  ports,
  pki,
  layout,
  kubeconfigs,
  kwokConfigDir,
  network,
}: ComponentContext): ComponentSpec {
  return {
    name: "kwok",
    binary: "kwok",
    args: [
      `--kubeconfig=${kubeconfigs.kwok}`,
      "--manage-all-nodes=false",
      `--manage-nodes-with-annotation-selector=${KWOK_NODE_ANNOTATION}=fake`,
      "--manage-nodes-with-label-selector=",
      "--manage-single-node=",
      `--cidr=${network.kwokPodCidr}`,
      // Served on loopback; reached at the nodes' InternalIP through a real node's forwarder (network-plan.ts).
      `--node-ip=${network.kwokNodeIp}`,
      `--node-port=${ports.kwok}`,
      `--server-address=${loopback}:${ports.kwok}`,
      `--tls-cert-file=${pki.cert("kwok")}`,
      `--tls-private-key-file=${pki.key("kwok")}`,
      "--node-lease-duration-seconds=40",
      `--config=${join(kwokConfigDir, "stages.yaml")}`,
      `--config=${kwokLogsConfigPath(layout.root)}`,
      // Emulated resource usage on the kubelet endpoints: resource metrics, cAdvisor network counters, and the
      // per-pod figures they report (from pod annotations).
      `--config=${join(kwokConfigDir, "metrics-resource.yaml")}`,
      `--config=${join(kwokConfigDir, "metrics-cadvisor.yaml")}`,
      `--config=${join(kwokConfigDir, "metrics-kubelet.yaml")}`,
      `--config=${join(kwokConfigDir, "usage-from-annotation.yaml")}`,
    ],
  };
}

/** Our local volume provisioner (`kubeplus-dev provisioner`): claims of StorageClass `standard` get volumes. */
export function provisionerSpec(
  { ports, pki, layout }: ComponentContext,
  cli: string,
): ComponentSpec {
  return {
    name: "volume-provisioner",
    binary: "node",
    args: [
      cli,
      "provisioner",
      "--api",
      `https://${loopback}:${ports.apiServer}`,
      "--pki",
      pki.dir,
      "--volumes-dir",
      join(layout.root, "volumes"),
    ],
  };
}

/** nats-server with the configuration `natsServerConfig` wrote (TLS, client certificates, per-user permissions). */
export function natsSpec({ layout }: ComponentContext): ComponentSpec {
  return {
    name: "nats-server",
    binary: "natsServer",
    args: ["-c", natsAuthFiles(layout.natsAuth).config],
  };
}
