import {
  KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  type KubernetesObject,
} from "@kubernetes/client-node";

/** A kubeconfig from a file when given, else the in-cluster service account, else the default loading rules. */
export function loadKubeConfig(path?: string): KubeConfig {
  const kc = new KubeConfig();
  if (path) kc.loadFromFile(path);
  else kc.loadFromDefault();
  return kc;
}

/** Server-side apply of a whole object under a stable field manager (the service's name). */
export async function applyObject<T extends KubernetesObject>(
  client: KubernetesObjectApi,
  object: T,
  fieldManager: string,
): Promise<T> {
  return client.patch(
    object,
    undefined,
    undefined,
    fieldManager,
    true,
    PatchStrategy.ServerSideApply,
  );
}
