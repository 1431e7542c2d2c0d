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
    .map((c) => volumeFor(c));
  const remove = volumes
    .filter((v) => v.metadata.annotations?.[PROVISIONED_BY] === LOCAL_PROVISIONER)
    .filter((v) => v.status?.phase === "Released" && !v.metadata.deletionTimestamp)
    .map((v) => v.metadata.name);
  return { create, remove };
}

function volumeFor(claim: Claim): Record<string, unknown> {
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
      // Nothing is ever written: kwok's pods do not run. The path only makes the volume look like a real local one.
      hostPath: { path: `/var/lib/kubeplus-dev/volumes/${name}`, type: "DirectoryOrCreate" },
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
): Promise<void> {
  const [claims, volumes, classes] = await Promise.all([
    list<Claim>(api, tls, "/api/v1/persistentvolumeclaims"),
    list<Volume>(api, tls, "/api/v1/persistentvolumes"),
    list<StorageClass>(api, tls, "/apis/storage.k8s.io/v1/storageclasses"),
  ]);
  const plan = planVolumes(claims, volumes, classes);
  for (const pv of plan.create) {
    const res = await httpCall(`${api}/api/v1/persistentvolumes`, {
      method: "POST",
      body: pv,
      tls,
    });
    const name = (pv.metadata as { name: string }).name;
    if (res.status === 201) log(`provisioned ${name}`);
    else if (res.status !== 409) log(`creating ${name} failed: HTTP ${res.status} ${res.body}`);
  }
  for (const name of plan.remove) {
    const res = await httpCall(`${api}/api/v1/persistentvolumes/${name}`, {
      method: "DELETE",
      tls,
    });
    if (res.status === 200 || res.status === 202) log(`deleted released ${name}`);
  }
}

/** Runs until killed (the control plane stops it by PID like any other component). */
export async function runProvisioner(api: string, tls: ClientTls): Promise<never> {
  const log = (line: string): void => {
    process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), msg: line })}\n`);
  };
  log(`local volume provisioner for ${LOCAL_PROVISIONER} started`);
  for (;;) {
    try {
      await provisionOnce(api, tls, log);
    } catch (err) {
      log(`pass failed, retrying: ${err instanceof Error ? err.message : String(err)}`);
    }
    await sleep(500);
  }
}
