import type { ApiAccess } from "./access.js";
import { KubeRequestError, kubeRequest } from "./raw.js";

export interface LeaderElectionOptions {
  readonly namespace: string;
  /** The Lease's name: one per job that only one replica may do (for example `kubeplus-helmer`). */
  readonly name: string;
  /** This replica, as shown in the Lease's holderIdentity (pod name, or host and PID). */
  readonly identity: string;
  readonly leaseSeconds?: number;
  /** How often the holder renews and the others try; a third of the lease by default. */
  readonly retryMs?: number;
  readonly onStartedLeading: () => void | Promise<void>;
  /** Called when the lease is lost (renewal failed past its term). The safe reaction is to exit and restart. */
  readonly onStoppedLeading: () => void;
  readonly onError?: (err: unknown) => void;
}

export interface LeaderElection {
  isLeader(): boolean;
  /** Gives the lease up (holder cleared) so another replica takes over at once, then stops trying. */
  release(): Promise<void>;
}

interface Lease {
  metadata: { resourceVersion?: string; name: string; namespace: string };
  spec: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}

const microTime = (d: Date): string => d.toISOString().replace("Z", "000Z");

/** Whether `lease` may be taken by `identity` at `now`: free, ours, or expired. Pure, for tests. */
export function canAcquire(lease: Lease["spec"], identity: string, now: number): boolean {
  if (!lease.holderIdentity || lease.holderIdentity === identity) return true;
  const renewed = lease.renewTime ? Date.parse(lease.renewTime) : 0;
  return now > renewed + (lease.leaseDurationSeconds ?? 15) * 1000;
}

/**
 * Leader election on a coordination.k8s.io/v1 Lease, as client-go's leaderelection does: optimistic concurrency on
 * the Lease's resourceVersion, so two replicas never both believe they lead for longer than one lease term.
 */
export function startLeaderElection(kc: ApiAccess, options: LeaderElectionOptions): LeaderElection {
  const leaseSeconds = options.leaseSeconds ?? 15;
  const retryMs = options.retryMs ?? Math.floor((leaseSeconds * 1000) / 3);
  const base = `/apis/coordination.k8s.io/v1/namespaces/${options.namespace}/leases`;
  let leader = false;
  let stopped = false;
  let lastRenew = 0;
  let timer: NodeJS.Timeout | undefined;

  const write = async (current: Lease | undefined): Promise<void> => {
    const now = new Date();
    const spec: Lease["spec"] = {
      holderIdentity: options.identity,
      leaseDurationSeconds: leaseSeconds,
      renewTime: microTime(now),
      acquireTime:
        current?.spec.holderIdentity === options.identity && current.spec.acquireTime
          ? current.spec.acquireTime
          : microTime(now),
      leaseTransitions:
        (current?.spec.leaseTransitions ?? 0) +
        (current && current.spec.holderIdentity !== options.identity ? 1 : 0),
    };
    const body = {
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      metadata: { ...current?.metadata, name: options.name, namespace: options.namespace },
      spec,
    };
    if (current) await kubeRequest(kc, "PUT", `${base}/${options.name}`, { body });
    else await kubeRequest(kc, "POST", base, { body });
  };

  const tryOnce = async (): Promise<void> => {
    let current: Lease | undefined;
    try {
      current = (await kubeRequest(kc, "GET", `${base}/${options.name}`)) as Lease;
    } catch (err) {
      if (!(err instanceof KubeRequestError && err.code === 404)) throw err;
    }
    if (current && !canAcquire(current.spec, options.identity, Date.now())) return;
    await write(current);
    lastRenew = Date.now();
    if (!leader) {
      leader = true;
      await options.onStartedLeading();
    }
  };

  const loop = (): void => {
    if (stopped) return;
    tryOnce()
      .catch((err: unknown) => {
        options.onError?.(err);
      })
      .finally(() => {
        if (leader && Date.now() - lastRenew > leaseSeconds * 1000) {
          leader = false;
          options.onStoppedLeading();
        }
        if (!stopped) timer = setTimeout(loop, retryMs);
      });
  };
  loop();

  return {
    isLeader: () => leader,
    release: async () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      if (!leader) return;
      leader = false;
      const current = (await kubeRequest(kc, "GET", `${base}/${options.name}`)) as Lease;
      if (current.spec.holderIdentity !== options.identity) return;
      await kubeRequest(kc, "PUT", `${base}/${options.name}`, {
        body: {
          ...current,
          spec: { ...current.spec, holderIdentity: "", leaseDurationSeconds: 1 },
        },
      });
    },
  };
}
