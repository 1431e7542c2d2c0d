import { parse } from "yaml";

/** What the console keeps of a kubeconfig: the user's credential and where to start. Never its server URL. */
export type Credential =
  | { readonly kind: "token"; readonly token: string }
  | { readonly kind: "certificate"; readonly cert: string; readonly key: string };

export interface SignInIdentity {
  readonly credential: Credential;
  readonly context: string;
  readonly namespace: string;
}

/** A kubeconfig the console cannot use, with what to change. */
export class CredentialError extends Error {
  override readonly name = "CredentialError";
}

interface Named {
  name?: unknown;
  [key: string]: unknown;
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

function entry(list: unknown, name: string, what: string): Record<string, unknown> {
  const found = Array.isArray(list)
    ? (list as Named[]).find((e) => isRecord(e) && e.name === name)
    : undefined;
  if (!found)
    throw new CredentialError(`the kubeconfig names ${what} '${name}' but does not define it`);
  return found;
}

const MAX_KUBECONFIG_BYTES = 64 * 1024;

function decodeBase64Pem(value: unknown, field: string): string {
  if (typeof value !== "string" || value.trim() === "")
    throw new CredentialError(`the user's ${field} is empty`);
  const pem = Buffer.from(value, "base64").toString("utf8");
  if (!pem.includes("-----BEGIN "))
    throw new CredentialError(`the user's ${field} is not base64 of a PEM block`);
  return pem;
}

function credentialOf(user: Record<string, unknown>, userName: string): Credential {
  if (user.exec !== undefined || user["auth-provider"] !== undefined)
    throw new CredentialError(
      `user '${userName}' gets its credential from a program (exec or auth-provider), which the console does not run: sign in with a kubeconfig that holds a token (kubectl retrieve kubeconfig consumer, or provider-kubeconfig create ... -c <consumer>)`,
    );
  for (const field of ["tokenFile", "client-certificate", "client-key", "username", "password"])
    if (user[field] !== undefined)
      throw new CredentialError(
        `user '${userName}' uses '${field}', which the console does not accept (it never reads files on its own host, and basic auth is not supported): embed the credential as 'token' or 'client-certificate-data' with 'client-key-data'`,
      );
  if (typeof user.token === "string" && user.token.trim() !== "")
    return { kind: "token", token: user.token.trim() };
  if (user["client-certificate-data"] !== undefined || user["client-key-data"] !== undefined)
    return {
      kind: "certificate",
      cert: decodeBase64Pem(user["client-certificate-data"], "client-certificate-data"),
      key: decodeBase64Pem(user["client-key-data"], "client-key-data"),
    };
  throw new CredentialError(
    `user '${userName}' has no credential: the kubeconfig needs a 'token' or 'client-certificate-data' with 'client-key-data'`,
  );
}

function parseKubeconfig(text: string): Record<string, unknown> {
  if (Buffer.byteLength(text, "utf8") > MAX_KUBECONFIG_BYTES)
    throw new CredentialError(
      `the kubeconfig is larger than ${String(MAX_KUBECONFIG_BYTES / 1024)} KiB: upload the one file of the user you sign in as`,
    );
  let doc: unknown;
  try {
    doc = parse(text, { maxAliasCount: 10 });
  } catch (err) {
    throw new CredentialError(
      `this is not a kubeconfig: it is neither YAML nor JSON (${(err as Error).message.split("\n")[0] ?? ""})`,
    );
  }
  if (!isRecord(doc) || doc.kind !== "Config")
    throw new CredentialError(
      "this is not a kubeconfig: a kubeconfig is a document with kind: Config",
    );
  return doc;
}

/**
 * Reads the credential of one context of a kubeconfig (YAML or JSON text): the given context, else the current one.
 * Only credentials embedded in the file are taken: a token, or a client certificate and key. The cluster entry is
 * ignored (the console talks to its own apiserver only), so an uploaded kubeconfig cannot point the console anywhere.
 */
export function readKubeconfig(text: string, contextName?: string): SignInIdentity {
  const doc = parseKubeconfig(text);
  const asked = contextName?.trim() ?? "";
  const current = typeof doc["current-context"] === "string" ? doc["current-context"] : "";
  const name = asked === "" ? current : asked;
  if (name === "")
    throw new CredentialError(
      "the kubeconfig has no current-context: name the context to sign in with",
    );
  const context = entry(doc.contexts, name, "context").context;
  if (!isRecord(context) || typeof context.user !== "string")
    throw new CredentialError(`context '${name}' names no user`);
  const user = entry(doc.users, context.user, "user").user;
  if (!isRecord(user)) throw new CredentialError(`user '${context.user}' is empty`);
  const namespace =
    typeof context.namespace === "string" && context.namespace !== ""
      ? context.namespace
      : "default";
  return { credential: credentialOf(user, context.user), context: name, namespace };
}
