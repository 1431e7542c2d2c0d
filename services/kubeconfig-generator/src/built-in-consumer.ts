import {
  AccessNames,
  issueKubeconfig,
  kubeconfigSecretName,
  Paths,
  setUpConsumer,
  storeKubeconfig,
  TOKEN_EXPIRES_ANNOTATION,
  type ClusterIO,
} from "@kubeplus/access";

/** The file name inside the stored Secret (the original's ConfigMap key). */
export const BUILT_IN_CONSUMER_FILE = `${AccessNames.Consumer}.json`;

/** True when the token is missing, unreadable, or has less than a fifth of its lifetime left. */
export function needsRenewal(
  expiresAt: string | undefined,
  lifetimeSeconds: number,
  now: number,
): boolean {
  if (!expiresAt) return true;
  const left = Date.parse(expiresAt) - now;
  return !(left > (lifetimeSeconds * 1000) / 5);
}

export interface BuiltInConsumerOptions {
  readonly namespace: string;
  readonly server?: string;
  readonly lifetimeSeconds: number;
}

/**
 * Level-based: reads the stored kubeconfig Secret and renews it (identity, binding and token) when it is missing or
 * close to expiry. Returns when its token expires and whether it was renewed now.
 */
export async function keepBuiltInConsumerCurrent(
  io: ClusterIO,
  options: BuiltInConsumerOptions,
  now: number = Date.now(),
): Promise<{ renewed: boolean; expiresAt: string | undefined }> {
  const ref = { namespace: options.namespace, serviceAccount: AccessNames.Consumer };
  const secret = await io.get<{ metadata: { annotations?: Record<string, string> } }>(
    Paths.secret(options.namespace, kubeconfigSecretName(AccessNames.Consumer)),
  );
  const current = secret?.metadata.annotations?.[TOKEN_EXPIRES_ANNOTATION];
  if (!needsRenewal(current, options.lifetimeSeconds, now))
    return { renewed: false, expiresAt: current };
  await setUpConsumer(io, ref);
  const issued = await issueKubeconfig(io, ref, {
    ...(options.server ? { server: options.server } : {}),
    clusterName: AccessNames.Consumer,
    durationSeconds: options.lifetimeSeconds,
  });
  await storeKubeconfig(io, ref, issued, BUILT_IN_CONSUMER_FILE);
  return { renewed: true, expiresAt: issued.expiresAt };
}
