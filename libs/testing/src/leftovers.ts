import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { AdmissionregistrationV1Api, KubeConfig } from "@kubernetes/client-node";
import type { ClusterState } from "@kubeplus/dev";

/**
 * What a test file leaves in the cluster when its afterAll does not finish (a hook timeout, a crash): crd-hook's
 * webhook configurations, which fail closed and would refuse every KubePlus object of the next file with
 * "connection refused" once that crd-hook is gone, and the services it started (their own process groups outlive
 * the test worker; a helmer watches compositions cluster-wide and would act on the next file's). Each file's are
 * named or recorded as its own; every file starts by removing those of the files before it (file-setup.ts), and the
 * global teardown removes the last ones, so a failing file never breaks the next.
 */

/** Webhook configurations of a test file's crd-hook are named after its KubePlus namespace, with this prefix. */
export const TEST_WEBHOOK_PREFIX = "kubeplus-test-";

/** The name of the webhook configurations of the crd-hook a test file runs for KubePlus namespace `namespace`. */
export const testWebhookName = (namespace: string): string =>
  `${TEST_WEBHOOK_PREFIX}${namespace}`.slice(0, 253);

/** Deletes every test file's webhook configurations (never the chart's or another name); returns what it deleted. */
export async function removeTestWebhooks(kubeconfig: string): Promise<string[]> {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  const api = kc.makeApiClient(AdmissionregistrationV1Api);
  const removed: string[] = [];
  const ours = (name: string | undefined): name is string =>
    !!name && name.startsWith(TEST_WEBHOOK_PREFIX);
  const ignoreGone = (err: unknown): void => {
    if ((err as { code?: number }).code !== 404) throw err;
  };
  for (const item of (await api.listValidatingWebhookConfiguration()).items) {
    const name = item.metadata?.name;
    if (!ours(name)) continue;
    await api.deleteValidatingWebhookConfiguration({ name }).catch(ignoreGone);
    removed.push(`validatingwebhookconfiguration/${name}`);
  }
  for (const item of (await api.listMutatingWebhookConfiguration()).items) {
    const name = item.metadata?.name;
    if (!ours(name)) continue;
    await api.deleteMutatingWebhookConfiguration({ name }).catch(ignoreGone);
    removed.push(`mutatingwebhookconfiguration/${name}`);
  }
  return removed;
}

interface ServiceRecord {
  readonly pid: number;
  readonly name: string;
  /** The service's entry file: the process is ours only while its command line still names it (PIDs are reused). */
  readonly entry: string;
}

const recordsDir = (runDir: string): string => join(runDir, "test-services");

/** Records a service process a test started (services.ts), so that a later file can stop it if this one did not. */
export function recordServiceProcess(runDir: string, record: ServiceRecord): void {
  mkdirSync(recordsDir(runDir), { recursive: true });
  writeFileSync(join(recordsDir(runDir), `${String(record.pid)}.json`), JSON.stringify(record));
}

/** The service stopped as it should: nothing left to clean. */
export function forgetServiceProcess(runDir: string, pid: number): void {
  rmSync(join(recordsDir(runDir), `${String(pid)}.json`), { force: true });
}

function commandLine(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${String(pid)}/cmdline`, "utf8").replaceAll("\0", " ");
  } catch {
    return undefined;
  }
}

/**
 * SIGKILLs every service an earlier test file started and left running (its whole process group: helm too), by the
 * PIDs recorded when they started, each only if it still runs that service's entry file. Returns what it stopped.
 */
export function stopLeftoverServices(runDir: string): string[] {
  let files: string[];
  try {
    files = readdirSync(recordsDir(runDir)).filter((f) => f.endsWith(".json"));
  } catch {
    return [];
  }
  const stopped: string[] = [];
  for (const file of files) {
    const path = join(recordsDir(runDir), file);
    let record: ServiceRecord;
    try {
      record = JSON.parse(readFileSync(path, "utf8")) as ServiceRecord;
    } catch {
      rmSync(path, { force: true });
      continue;
    }
    if (commandLine(record.pid)?.includes(record.entry)) {
      try {
        process.kill(-record.pid, "SIGKILL");
        stopped.push(`${record.name} (pid ${String(record.pid)})`);
      } catch {
        // Gone in the meantime.
      }
    }
    rmSync(path, { force: true });
  }
  return stopped;
}

/** Everything earlier test files left behind on this control plane: their services, then their webhooks. */
export async function removeLeftovers(state: ClusterState): Promise<string[]> {
  const stopped = stopLeftoverServices(state.runDir);
  const webhooks = await removeTestWebhooks(state.kubeconfig);
  return [...stopped, ...webhooks];
}
