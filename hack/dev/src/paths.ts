import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root: this file lives in hack/dev/{src,dist}/. */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

/** Everything a running control plane owns lives under one run folder (gitignored). */
export interface RunLayout {
  readonly root: string;
  readonly pki: string;
  readonly logs: string;
  readonly pids: string;
  readonly etcdData: string;
  readonly natsData: string;
  /** The NATS CA, server and client certificates and nats-server.conf. */
  readonly natsAuth: string;
  readonly identities: string;
  readonly state: string;
  readonly adminKubeconfig: string;
  readonly envFile: string;
}

export function defaultRunDir(env: NodeJS.ProcessEnv): string {
  return env.KUBEPLUS_RUN_DIR ?? join(repoRoot, ".run", "cluster");
}

export function runLayout(root: string): RunLayout {
  return {
    root,
    pki: join(root, "pki"),
    logs: join(root, "logs"),
    pids: join(root, "pids"),
    etcdData: join(root, "etcd"),
    natsData: join(root, "nats"),
    natsAuth: join(root, "nats-auth"),
    identities: join(root, "identities"),
    state: join(root, "state.json"),
    adminKubeconfig: join(root, "admin.kubeconfig"),
    envFile: join(root, "env"),
  };
}
