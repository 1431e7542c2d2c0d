import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { CertificateUsage, createCertificateAuthority, issueCertificate } from "@kubeplus/tls";

/**
 * The apiserver's identity towards admission webhooks: a client certificate from a CA of its own (not the cluster
 * CA, which signs every user's certificate), presented to every webhook through the apiserver's
 * AdmissionConfiguration. crd-hook trusts only this CA (CLIENT_CA_FILE), so nothing but the apiserver can post it
 * an AdmissionReview.
 */
export interface WebhookClientFiles {
  /** The CA crd-hook verifies clients against. */
  readonly caCert: string;
  readonly cert: string;
  readonly key: string;
  /** The kubeconfig whose `users` the apiserver presents to webhooks (WebhookAdmissionConfiguration). */
  readonly kubeconfig: string;
  /** The file `--admission-control-config-file` names. */
  readonly admissionConfig: string;
}

export function webhookClientPaths(pkiDir: string): WebhookClientFiles {
  return {
    caCert: join(pkiDir, "webhook-client-ca.crt"),
    cert: join(pkiDir, "apiserver-webhook-client.crt"),
    key: join(pkiDir, "apiserver-webhook-client.key"),
    kubeconfig: join(pkiDir, "webhook-client.kubeconfig"),
    admissionConfig: join(pkiDir, "admission-config.json"),
  };
}

/** The CA that signs the apiserver's webhook client certificate, for a control plane started in `runDir`. */
export const webhookClientCaFile = (runDir: string): string =>
  webhookClientPaths(join(runDir, "pki")).caCert;

/** Writes the CA, the client certificate, its kubeconfig and the AdmissionConfiguration into the PKI folder. */
export async function writeWebhookClient(pkiDir: string): Promise<WebhookClientFiles> {
  const files = webhookClientPaths(pkiDir);
  const ca = await createCertificateAuthority({ commonName: "kubeplus-dev-webhook-client-ca" });
  const client = await issueCertificate({
    ca,
    commonName: "kube-apiserver-webhook-client",
    usage: CertificateUsage.Client,
  });
  writeFileSync(files.caCert, ca.certPem);
  writeFileSync(files.cert, client.certPem);
  writeFileSync(files.key, client.keyPem, { mode: 0o600 });
  // `*`: every webhook the apiserver calls gets this certificate (the webhook's host otherwise names the entry).
  const kubeconfig = {
    apiVersion: "v1",
    kind: "Config",
    users: [{ name: "*", user: { "client-certificate": files.cert, "client-key": files.key } }],
  };
  writeFileSync(files.kubeconfig, JSON.stringify(kubeconfig, null, 2), { mode: 0o600 });
  const webhookConfig = {
    apiVersion: "apiserver.config.k8s.io/v1",
    kind: "WebhookAdmissionConfiguration",
    kubeConfigFile: files.kubeconfig,
  };
  const admission = {
    apiVersion: "apiserver.config.k8s.io/v1",
    kind: "AdmissionConfiguration",
    plugins: [
      { name: "ValidatingAdmissionWebhook", configuration: webhookConfig },
      { name: "MutatingAdmissionWebhook", configuration: webhookConfig },
    ],
  };
  writeFileSync(files.admissionConfig, JSON.stringify(admission, null, 2));
  return files;
}
