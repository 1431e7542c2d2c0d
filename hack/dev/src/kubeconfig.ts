import { stringify } from "yaml";

export interface ClientCertKubeconfig {
  readonly server: string;
  readonly caPem: string;
  readonly user: string;
  readonly certPem: string;
  readonly keyPem: string;
  readonly clusterName?: string;
  readonly namespace?: string;
}

const b64 = (s: string): string => Buffer.from(s).toString("base64");

/** A kubeconfig with the cluster CA and the client certificate embedded (no files to carry around). */
export function buildKubeconfig(options: ClientCertKubeconfig): string {
  const cluster = options.clusterName ?? "kubeplus-dev";
  const context = `${options.user}@${cluster}`;
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      {
        name: cluster,
        cluster: { server: options.server, "certificate-authority-data": b64(options.caPem) },
      },
    ],
    users: [
      {
        name: options.user,
        user: {
          "client-certificate-data": b64(options.certPem),
          "client-key-data": b64(options.keyPem),
        },
      },
    ],
    contexts: [
      {
        name: context,
        context: {
          cluster,
          user: options.user,
          ...(options.namespace ? { namespace: options.namespace } : {}),
        },
      },
    ],
    "current-context": context,
  });
}
