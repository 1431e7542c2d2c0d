import {
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  type CustomObjectsApi,
} from "@kubernetes/client-node";
import { shareAgents } from "./agents.js";

/** A kubeconfig from a file when given, else the in-cluster service account, else the default loading rules. */
export function loadKubeConfig(path?: string): KubeConfig {
  const kc = new KubeConfig();
  if (path) kc.loadFromFile(path);
  else kc.loadFromDefault();
  return shareAgents(kc);
}

export interface CustomObjectRef {
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  readonly namespace: string;
  readonly name: string;
}

/**
 * Writes a custom object's status with a JSON merge patch on the status subresource: no resourceVersion needed (the
 * writer owns status, and a watch cache's stale version would only cause conflicts); arrays such as conditions are
 * replaced whole.
 */
export async function patchStatus(
  custom: CustomObjectsApi,
  ref: CustomObjectRef,
  status: unknown,
): Promise<PatchedObject> {
  return (await custom.patchNamespacedCustomObjectStatus(
    { ...ref, body: { status } },
    setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
  )) as PatchedObject;
}

/** The object as a status patch left it (what a writer learns of its own write). */
export interface PatchedObject {
  readonly metadata?: { readonly resourceVersion?: string };
  readonly status?: unknown;
}
