import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { httpCall, type ClientTls } from "./http.js";
import { REAL_NODE_LABEL } from "./real-node-config.js";

/** The provisioner name of the local cluster's default StorageClass `standard`. */
export const LOCAL_PROVISIONER = "kubeplus.dev/kwok-volumes";
const SELECTED_NODE = "volume.kubernetes.io/selected-node";
const PROVISIONED_BY = "pv.kubernetes.io/provisioned-by";

interface Meta {
  name: string;
  namespace?: string;
  uid?: string;
  annotations?: Record<string, string>;
  deletionTimestamp?: string;
}
export interface Claim {
  metadata: Meta;
  spec: {
    storageClassName?: string;
    volumeName?: string;
    accessModes?: string[];
    volumeMode?: string;
    resources?: { requests?: { storage?: string } };
  };
}
export interface Volume {
  metadata: Meta;
  status?: { phase?: string };
}
export interface StorageClass {
  metadata: Meta;
  provisioner: string;
}
export interface NodeView {
  metadata: Meta & { labels?: Record<string, string> };
}

/** The nodes whose kubelet really mounts volumes (labelled kubeplus.dev/real-node=true); kwok nodes never do. */
export function realNodeNames(nodes: readonly NodeView[]): Set<string> {
  return new Set(
    nodes
      .filter((n) => n.metadata.labels?.[REAL_NODE_LABEL] === "true")
      .map((n) => n.metadata.name),
  );
}

/**
 * What a dynamic provisioner would do now (level-based, like a CSI external-provisioner): a volume for every claim of
 * one of our classes that the scheduler placed on a node (WaitForFirstConsumer) and that has none yet; and the
 * deletion of every volume of ours whose claim is gone (reclaim policy Delete). A claim placed on a real node (in
 * `realNodes`) gets a `local` volume, a filesystem of its own (see volumeFor); on a kwok node, a hostPath folder.
 */
export function planVolumes(
  claims: readonly Claim[],
  volumes: readonly Volume[],
  classes: readonly StorageClass[],
  where: { readonly volumesDir?: string; readonly realNodes?: ReadonlySet<string> } = {},
): { create: Record<string, unknown>[]; remove: string[] } {
  const { volumesDir = DEFAULT_VOLUMES_DIR, realNodes = new Set<string>() } = where;
  const ours = new Set(
    classes.filter((c) => c.provisioner === LOCAL_PROVISIONER).map((c) => c.metadata.name),
  );
  const existing = new Set(volumes.map((v) => v.metadata.name));
  const create = claims
    .filter(
      (c) =>
        ours.has(c.spec.storageClassName ?? "") &&
        !c.spec.volumeName &&
        !c.metadata.deletionTimestamp,
    )
    .filter(
      (c) =>
        c.metadata.annotations?.[SELECTED_NODE] && !existing.has(`pvc-${c.metadata.uid ?? ""}`),
    )
    .map((c) => volumeFor(c, volumesDir, realNodes));
  const remove = volumes
    .filter((v) => v.metadata.annotations?.[PROVISIONED_BY] === LOCAL_PROVISIONER)
    .filter((v) => v.status?.phase === "Released" && !v.metadata.deletionTimestamp)
    .map((v) => v.metadata.name);
  return { create, remove };
}

/** Where volumes live when the provisioner is not told (kwok nodes never write there). */
export const DEFAULT_VOLUMES_DIR = "/var/lib/kubeplus-dev/volumes";

/** The folder of one volume: a real node's kubelet mounts it into the pod. */
export function volumePath(volumesDir: string, name: string): string {
  return `${volumesDir}/${name}`;
}

/** The file holding a real node's volume's filesystem (sparse, the claim's size), loop-mounted at volumePath. */
export function volumeImage(volumesDir: string, name: string): string {
  return `${volumesDir}/${name}.img`;
}

const UNITS: Record<string, number> = {
  "": 1,
  k: 1e3,
  K: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
};

/** Bytes of a storage quantity (`64Mi`, `5Gi`, `1G`, `1000`); undefined when it is not one. */
export function storageBytes(quantity: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)([kKMGT]i?|)$/.exec(quantity.trim());
  const unit = m ? UNITS[m[2] ?? ""] : undefined;
  return m && unit !== undefined ? Math.ceil(Number(m[1]) * unit) : undefined;
}

/**
 * Where a real node's volume lives: a hostPath folder has no volume stats in the kubelet (its metrics provider
 * reports nothing), so a claim's used bytes would never be known. A `local` volume on a filesystem of its own is
 * measured by the kubelet (statfs: kubelet_volume_stats_used_bytes, /stats/summary), and its size is the claim's.
 */
function sourceFor(
  volumesDir: string,
  name: string,
  real: boolean,
): Record<string, Record<string, string>> {
  const path = volumePath(volumesDir, name);
  return real ? { local: { path } } : { hostPath: { path, type: "Directory" } };
}

function volumeFor(
  claim: Claim,
  volumesDir: string,
  realNodes: ReadonlySet<string>,
): Record<string, unknown> {
  const node = claim.metadata.annotations?.[SELECTED_NODE] ?? "";
  const name = `pvc-${claim.metadata.uid ?? ""}`;
  return {
    apiVersion: "v1",
    kind: "PersistentVolume",
    metadata: { name, annotations: { [PROVISIONED_BY]: LOCAL_PROVISIONER } },
    spec: {
      capacity: { storage: claim.spec.resources?.requests?.storage ?? "1Gi" },
      accessModes: claim.spec.accessModes ?? ["ReadWriteOnce"],
      volumeMode: claim.spec.volumeMode ?? "Filesystem",
      storageClassName: claim.spec.storageClassName,
      persistentVolumeReclaimPolicy: "Delete",
      claimRef: {
        apiVersion: "v1",
        kind: "PersistentVolumeClaim",
        namespace: claim.metadata.namespace,
        name: claim.metadata.name,
        uid: claim.metadata.uid,
      },
      // A folder of its own under the run folder, made by the provisioner (mode 0777, as local-path provisioners
      // do, so that non-root pods can write); on a real node a filesystem of its own is mounted there, a kwok node
      // never touches it.
      ...sourceFor(volumesDir, name, realNodes.has(node)),
      nodeAffinity: {
        required: {
          nodeSelectorTerms: [
            {
              matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: [node] }],
            },
          ],
        },
      },
    },
  };
}

async function list<T>(api: string, tls: ClientTls, path: string): Promise<T[]> {
  const res = await httpCall(`${api}${path}`, { tls, timeoutMs: 10_000 });
  if (res.status !== 200) throw new Error(`GET ${path}: HTTP ${res.status}`);
  return (JSON.parse(res.body) as { items: T[] }).items;
}

/** Mount points at or under `dir`, deepest first (this process's mount namespace: the host's). */
export function mountsUnder(dir: string): string[] {
  const points = readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((l) => (l.split(" ")[4] ?? "").replace(/\\040/g, " "))
    .filter((p) => p === dir || p.startsWith(`${dir}/`));
  return [...new Set(points)].sort((a, b) => b.length - a.length);
}

function sh(cmd: string, args: readonly string[]): void {
  const res = spawnSync(cmd, [...args], { encoding: "utf8" });
  if (res.error) throw new Error(`${cmd} could not run: ${res.error.message}`);
  if (res.status !== 0)
    throw new Error(`${cmd} ${args.join(" ")} failed: ${(res.stderr || res.stdout).trim()}`);
}

/** Smallest filesystem made for a claim (ext4 needs room for its journal); smaller claims get this much. */
const MIN_FILESYSTEM_BYTES = 16 * 2 ** 20;

/**
 * A filesystem of the claim's size for a real node's `local` volume: a sparse file under the run folder, ext4
 * without reserved blocks, loop-mounted at the volume's folder, which is left empty and writable by every user (as
 * local-path provisioners do, so that non-root pods can write). Idempotent: a folder already mounted is kept.
 */
export function makeFilesystem(volumesDir: string, name: string, capacity: string): void {
  const dir = volumePath(volumesDir, name);
  mkdirSync(dir, { recursive: true, mode: 0o777 });
  if (mountsUnder(dir).includes(dir)) return;
  const bytes = Math.max(storageBytes(capacity) ?? 0, MIN_FILESYSTEM_BYTES);
  const image = volumeImage(volumesDir, name);
  sh("truncate", ["-s", String(bytes), image]);
  try {
    sh("mkfs.ext4", ["-q", "-F", "-m", "0", "-E", "nodiscard", image]);
    // noinit_itable: no background zeroing of inode tables (a sparse image stays sparse).
    sh("mount", ["-o", "loop,noinit_itable", image, dir]);
  } catch (err) {
    rmSync(image, { force: true });
    throw err;
  }
  rmSync(`${dir}/lost+found`, { recursive: true, force: true });
  chmodSync(dir, 0o777);
}

/** Unmounts every volume filesystem under `volumesDir` (lazily: a pod may still hold one); `down` and `up` call it. */
export function unmountVolumes(volumesDir: string): number {
  const points = mountsUnder(volumesDir);
  for (const point of points) spawnSync("umount", ["-l", point]);
  return points.length;
}

function removeVolumeFiles(volumesDir: string, name: string): void {
  const dir = volumePath(volumesDir, name);
  for (const point of mountsUnder(dir)) sh("umount", ["-l", point]);
  rmSync(dir, { recursive: true, force: true });
  rmSync(volumeImage(volumesDir, name), { force: true });
}

function prepareVolume(volumesDir: string, pv: Record<string, unknown>): void {
  const name = (pv.metadata as { name: string }).name;
  const spec = pv.spec as { local?: unknown; capacity: { storage: string } };
  if (spec.local) {
    makeFilesystem(volumesDir, name, spec.capacity.storage);
    return;
  }
  mkdirSync(volumePath(volumesDir, name), { recursive: true, mode: 0o777 });
  chmodSync(volumePath(volumesDir, name), 0o777);
}

/** One pass: lists claims, volumes, classes and nodes, creates and deletes what planVolumes says. */
export async function provisionOnce(
  api: string,
  tls: ClientTls,
  log: (line: string) => void,
  volumesDir = DEFAULT_VOLUMES_DIR,
): Promise<void> {
  const [claims, volumes, classes, nodes] = await Promise.all([
    list<Claim>(api, tls, "/api/v1/persistentvolumeclaims"),
    list<Volume>(api, tls, "/api/v1/persistentvolumes"),
    list<StorageClass>(api, tls, "/apis/storage.k8s.io/v1/storageclasses"),
    list<NodeView>(api, tls, "/api/v1/nodes"),
  ]);
  const plan = planVolumes(claims, volumes, classes, {
    volumesDir,
    realNodes: realNodeNames(nodes),
  });
  for (const pv of plan.create) {
    const name = (pv.metadata as { name: string }).name;
    try {
      prepareVolume(volumesDir, pv);
    } catch (err) {
      log(`preparing ${name} failed: ${err instanceof Error ? err.message : String(err)}`);
      continue;
    }
    const res = await httpCall(`${api}/api/v1/persistentvolumes`, {
      method: "POST",
      body: pv,
      tls,
    });
    if (res.status === 201) log(`provisioned ${name}`);
    else if (res.status !== 409) log(`creating ${name} failed: HTTP ${res.status} ${res.body}`);
  }
  for (const name of plan.remove) {
    const res = await httpCall(`${api}/api/v1/persistentvolumes/${name}`, {
      method: "DELETE",
      tls,
    });
    if (res.status === 200 || res.status === 202) {
      removeVolumeFiles(volumesDir, name);
      log(`deleted released ${name} and its folder`);
    }
  }
}

/** Runs until killed (the control plane stops it by PID like any other component). */
export async function runProvisioner(
  api: string,
  tls: ClientTls,
  volumesDir = DEFAULT_VOLUMES_DIR,
): Promise<never> {
  const log = (line: string): void => {
    process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), msg: line })}\n`);
  };
  log(`local volume provisioner for ${LOCAL_PROVISIONER} started`);
  for (;;) {
    try {
      await provisionOnce(api, tls, log, volumesDir);
    } catch (err) {
      log(`pass failed, retrying: ${err instanceof Error ? err.message : String(err)}`);
    }
    await sleep(500);
  }
}
