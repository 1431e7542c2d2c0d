import type { InstanceUsage } from "@kubeplus/contracts";
import { Applier, KubeRequestError, kubeRequest, type ApiAccess } from "@kubeplus/kube/lite";
import { accumulate, type UsageRecord } from "@kubeplus/metering";

/** The ConfigMap holding an instance's latest usage and daily record, in the release's namespace. */
export const recordName = (release: string): string => `kubeplus-usage-${release}`;

/**
 * Keeps every instance's usage in the cluster: `usage.json` (the latest pass, what `kubectl metrics` shows) and
 * `record.json` (daily CPU-core-seconds, memory-byte-seconds, storage-byte-seconds and network bytes). Records are
 * read back from the cluster the first time an instance is seen, so a restart (or a new leader) loses nothing.
 */
export class UsageRecords {
  private readonly records = new Map<string, UsageRecord>();
  private readonly applier: Applier;
  private readonly kc: ApiAccess;
  private readonly maxGapSeconds: number;

  constructor(kc: ApiAccess, maxGapSeconds: number) {
    this.kc = kc;
    this.applier = new Applier(kc, "kubeplus-metrics-collector");
    this.maxGapSeconds = maxGapSeconds;
  }

  private async load(usage: InstanceUsage): Promise<UsageRecord> {
    const key = `${usage.targetNamespace}/${usage.release}`;
    const cached = this.records.get(key);
    if (cached) return cached;
    try {
      const cm = (await kubeRequest(
        this.kc,
        "GET",
        `/api/v1/namespaces/${usage.targetNamespace}/configmaps/${recordName(usage.release)}`,
      )) as { data?: Record<string, string> };
      return JSON.parse(cm.data?.["record.json"] ?? '{"days":[]}') as UsageRecord;
    } catch (err) {
      if (err instanceof KubeRequestError && err.code === 404) return { days: [] };
      throw err;
    }
  }

  async write(usage: InstanceUsage): Promise<UsageRecord> {
    const record = accumulate(await this.load(usage), usage, this.maxGapSeconds);
    const configMap = {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: {
        name: recordName(usage.release),
        namespace: usage.targetNamespace,
        labels: {
          "app.kubernetes.io/managed-by": "kubeplus",
          "app.kubernetes.io/component": "metrics-collector",
          "kubeplus.dev/instance-kind": usage.kind,
          "kubeplus.dev/instance-name": usage.name,
        },
      },
      data: {
        "usage.json": JSON.stringify(usage),
        "record.json": JSON.stringify(record),
      },
    };
    await this.applier.apply(configMap);
    this.records.set(`${usage.targetNamespace}/${usage.release}`, record);
    return record;
  }

  /** Forget what is cached (after losing the lease: the next leader's records are the truth). */
  clear(): void {
    this.records.clear();
  }
}
