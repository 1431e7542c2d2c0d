import {
  AccessNames,
  issueKubeconfig,
  MANAGED_NAMESPACE_LABELS,
  Paths,
  type ClusterIO,
} from "@kubeplus/access";
import { Labels } from "@kubeplus/api";
import {
  ContractError,
  ErrorCode,
  type KubeconfigReply,
  type KubeconfigRequest,
} from "@kubeplus/contracts";

export interface GenerateDefaults {
  /** The API server URL written into every kubeconfig (configuration, never the request); empty: the one in use. */
  readonly server?: string;
  readonly durationSeconds: number;
  /** The longest lifetime a request may ask for. */
  readonly maxDurationSeconds: number;
}

/** The lifetime a request gets: its own within the maximum, else the default; over the maximum is refused. */
export function tokenLifetime(req: KubeconfigRequest, defaults: GenerateDefaults): number {
  const asked = req.durationSeconds ?? defaults.durationSeconds;
  if (asked > defaults.maxDurationSeconds)
    throw new ContractError(
      ErrorCode.BadRequest,
      `durationSeconds ${String(asked)} exceeds the maximum token lifetime of ${String(defaults.maxDurationSeconds)} s (MAX_TOKEN_SECONDS of the kubeconfig-generator): ask for ${String(defaults.maxDurationSeconds)} or less`,
    );
  return asked;
}

/**
 * A kubeconfig for a consumer ServiceAccount that already exists in a namespace KubePlus manages. The provider's own
 * identity is never handed out this way.
 */
export async function handleGenerate(
  io: ClusterIO,
  req: KubeconfigRequest,
  defaults: GenerateDefaults,
): Promise<KubeconfigReply> {
  const durationSeconds = tokenLifetime(req, defaults);
  if (req.serviceAccount === AccessNames.Provider)
    throw new ContractError(
      ErrorCode.BadRequest,
      "the kubeconfig-generator issues consumer kubeconfigs only; the provider's comes from provider-kubeconfig",
    );
  const ns = await io.get<{ metadata: { labels?: Record<string, string> } }>(
    Paths.namespace(req.namespace),
  );
  const managed = MANAGED_NAMESPACE_LABELS[Labels.ManagedBy];
  if (ns?.metadata.labels?.[Labels.ManagedBy] !== managed)
    throw new ContractError(
      ErrorCode.BadRequest,
      `namespace ${req.namespace} is not managed by KubePlus`,
    );
  if (!(await io.get(Paths.serviceAccount(req.namespace, req.serviceAccount))))
    throw new ContractError(
      ErrorCode.BadRequest,
      `no consumer ${req.serviceAccount} in ${req.namespace}: create it with provider-kubeconfig create ${req.namespace} -c ${req.serviceAccount}`,
    );
  const issued = await issueKubeconfig(
    io,
    { namespace: req.namespace, serviceAccount: req.serviceAccount },
    {
      ...(defaults.server ? { server: defaults.server } : {}),
      clusterName: req.serviceAccount,
      durationSeconds,
    },
  );
  return {
    version: 1,
    kubeconfig: JSON.stringify(issued.config),
    expiresAt: issued.expiresAt ?? "",
  };
}
