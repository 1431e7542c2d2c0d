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
  readonly server?: string;
  readonly durationSeconds: number;
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
  const server = req.server ?? defaults.server;
  const issued = await issueKubeconfig(
    io,
    { namespace: req.namespace, serviceAccount: req.serviceAccount },
    {
      ...(server ? { server } : {}),
      clusterName: req.serviceAccount,
      durationSeconds: req.durationSeconds ?? defaults.durationSeconds,
    },
  );
  return {
    version: 1,
    kubeconfig: JSON.stringify(issued.config),
    expiresAt: issued.expiresAt ?? "",
  };
}
