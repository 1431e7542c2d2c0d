import type { KubeConfig } from "@kubernetes/client-node";
import { Applier, kubeRequest, KubeRequestError } from "@kubeplus/kube";

/** An object to apply, as JSON. */
export interface ApplyObject extends Record<string, unknown> {
  apiVersion: string;
  kind: string;
  metadata: { name?: string; namespace?: string } & Record<string, unknown>;
}

/** Thin JSON I/O on the apiserver for the identity commands: get-or-undefined, apply, delete-if-present. */
export class ClusterIO {
  readonly kc: KubeConfig;
  private readonly applier: Applier;

  constructor(kc: KubeConfig, fieldManager: string) {
    this.kc = kc;
    this.applier = new Applier(kc, fieldManager);
  }

  async get<T>(path: string, accept?: string): Promise<T | undefined> {
    try {
      return (await kubeRequest(this.kc, "GET", path, accept ? { accept } : {})) as T;
    } catch (err) {
      if (err instanceof KubeRequestError && err.code === 404) return undefined;
      throw err;
    }
  }

  async apply(object: ApplyObject): Promise<void> {
    await this.applier.apply(object);
  }

  async post<T>(path: string, body: unknown): Promise<T> {
    return (await kubeRequest(this.kc, "POST", path, { body })) as T;
  }

  async mergePatch(path: string, body: unknown): Promise<void> {
    await kubeRequest(this.kc, "PATCH", path, {
      body,
      contentType: "application/merge-patch+json",
    });
  }

  /** Deletes the object; true when it existed. */
  async delete(path: string): Promise<boolean> {
    try {
      await kubeRequest(this.kc, "DELETE", path);
      return true;
    } catch (err) {
      if (err instanceof KubeRequestError && err.code === 404) return false;
      throw err;
    }
  }
}

export const Paths = {
  namespace: (ns: string): string => `/api/v1/namespaces/${ns}`,
  serviceAccount: (ns: string, name: string): string =>
    `/api/v1/namespaces/${ns}/serviceaccounts/${name}`,
  token: (ns: string, name: string): string =>
    `/api/v1/namespaces/${ns}/serviceaccounts/${name}/token`,
  secret: (ns: string, name: string): string => `/api/v1/namespaces/${ns}/secrets/${name}`,
  configMap: (ns: string, name: string): string => `/api/v1/namespaces/${ns}/configmaps/${name}`,
  clusterRole: (name: string): string => `/apis/rbac.authorization.k8s.io/v1/clusterroles/${name}`,
  clusterRoleBinding: (name: string): string =>
    `/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/${name}`,
  roleBinding: (ns: string, name: string): string =>
    `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/rolebindings/${name}`,
  namespaces: (labelSelector: string): string =>
    `/api/v1/namespaces?labelSelector=${encodeURIComponent(labelSelector)}`,
  roleBindings: (ns: string): string =>
    `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/rolebindings`,
  policy: (name: string): string =>
    `/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies/${name}`,
  policyBinding: (name: string): string =>
    `/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicybindings/${name}`,
} as const;
