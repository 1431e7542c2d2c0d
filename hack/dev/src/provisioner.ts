import { chmodSync, mkdirSync, rmSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { httpCall, type ClientTls } from "./http.js";

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

/**
 * What a dynamic provisioner would do now (level-based, like a CSI external-provisioner): a volume for every claim of
 * one of our classes that the scheduler placed on a node (WaitForFirstConsumer) and that has none yet; and the
 * deletion of every volume of ours whose claim is gone (reclaim policy Delete).
 */
export function planVolumes(
  claims: readonly Claim[],
  volumes: readonly Volume[],
  classes: readonly StorageClass[],
  volumesDir = DEFAULT_VOLUMES_DIR,
): { create: Record<string, unknown>[]; remove: string[] } {
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
    .map((c) => volumeFor(c, volumesDir));
  const remove = volumes
    .filter((v) => v.metadata.annotations?.[PROVISIONED_BY] === LOCAL_PROVISIONER)
    .filter((v) => v.status?.phase === "Released" && !v.metadata.deletionTimestamp)
    .map((v) => v.metadata.name);
  return { create, remove };
}

/** Where volumes live when the provisioner is not told (kwok nodes never write there). */
export const DEFAULT_VOLUMES_DIR = "/var/lib/kubeplus-dev/volumes";

/** The folder of one volume: a real node's kubelet mounts it into the pod (hostPath, type Directory). */
export function volumePath(volumesDir: string, name: string): string {
  return `${volumesDir}/${name}`;
}

function volumeFor(claim: Claim, volumesDir: string): Record<string, unknown> {
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
      // do, so that non-root pods can write); a real node mounts it, a kwok node never touches it.
      hostPath: { path: volumePath(volumesDir, name), type: "Directory" },
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

/** One pass: lists claims, volumes and classes, creates and deletes what planVolumes says. */
export async function provisionOnce(
  api: string,
  tls: ClientTls,
  log: (line: string) => void,
  volumesDir = DEFAULT_VOLUMES_DIR,
): Promise<void> {
  const [claims, volumes, classes] = await Promise.all([
    list<Claim>(api, tls, "/api/v1/persistentvolumeclaims"),
    list<Volume>(api, tls, "/api/v1/persistentvolumes"),
    list<StorageClass>(api, tls, "/apis/storage.k8s.io/v1/storageclasses"),
  ]);
  const plan = planVolumes(claims, volumes, classes, volumesDir);
  for (const pv of plan.create) {
    const name = (pv.metadata as { name: string }).name;
    mkdirSync(volumePath(volumesDir, name), { recursive: true, mode: 0o777 });
    chmodSync(volumePath(volumesDir, name), 0o777);
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
      rmSync(volumePath(volumesDir, name), { recursive: true, force: true });
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
