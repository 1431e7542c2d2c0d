import { readFile, rm, writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import type { KubeConfig } from "@kubernetes/client-node";
import {
  AccessNames,
  ADOPT_FLAG,
  ClusterIO,
  deleteIdentity,
  entityOf,
  FIELD_MANAGER,
  grantPermissions,
  MAX_TOKEN_SECONDS,
  issueKubeconfig,
  Paths,
  parseDuration,
  parsePermissionFile,
  revokePermissions,
  setUpConsumer,
  setUpProvider,
  storeKubeconfig,
  tokenLifetimeProblem,
  type IdentityRef,
  type NamespaceOutcome,
} from "@kubeplus/access";

/** What the command touches outside the cluster, injected so tests run it in-process or as a subprocess. */
export interface CliIO {
  readonly cwd: string;
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  readonly loadKubeconfig: (path: string | undefined) => KubeConfig;
}

const ACTIONS = ["create", "update", "revoke", "extract", "delete"] as const;
type Action = (typeof ACTIONS)[number];

/** Token lifetimes when --duration is not given: a year for the provider, 30 days for a consumer. */
export const DEFAULT_DURATION = { provider: "8760h", consumer: "720h" } as const;

export const HELP = `provider-kubeconfig: set up the KubePlus provider identity (or a consumer) and write its kubeconfig.

Usage:
  provider-kubeconfig <action> <namespace> [flags]

Actions:
  create    Create the identity in <namespace> (the namespace is created and labelled as managed by KubePlus when
            needed), its permissions, and its kubeconfig. Safe to run again. An existing namespace that already
            holds objects is refused unless ${ADOPT_FLAG} is given: once managed, the provider holds all of it.
            The provider's create also restores its RoleBinding in every instance namespace (after a delete).
            One provider per cluster: create in a second namespace is refused.
  update    Grant the permissions of a permission file (-p), in addition to earlier grants.
  revoke    Take away the permissions of a permission file (-p), exactly as far as they were granted.
  extract   Write the kubeconfig again with a freshly minted token.
  delete    Remove the identity, its permissions and its kubeconfig (the namespace stays). Refused, touching
            nothing, when <namespace> holds no such identity (for the provider: not the provider's namespace).

Flags:
  -k, --kubeconfig <path>       kubeconfig to act with (an administrator's for create/update/revoke/delete);
                                default: $KUBECONFIG, else ~/.kube/config
  -s, --apiserverurl <url>      API server URL written into the kubeconfig (default: the one of -k)
  -f, --filename <name>         output file in the current folder (default: <identity>.json, e.g.
                                kubeplus-saas-provider.json; .json is appended when missing)
  -x, --clustername <name>      cluster and context name in the kubeconfig (default: the identity's name)
  -p, --permissionfile <file>   permission file (JSON or YAML) for update and revoke
  -c, --consumer <name>         act on the consumer <name> instead of the provider
      --duration <d>            token lifetime, e.g. 8760h, 90d (default: ${DEFAULT_DURATION.provider} for the provider,
                                ${DEFAULT_DURATION.consumer} for a consumer; at most ${String(MAX_TOKEN_SECONDS.provider / 3600)}h and ${String(MAX_TOKEN_SECONDS.consumer / 3600)}h; refresh with extract)
      --legacy-token            use a never-expiring ServiceAccount token Secret (not recommended)
      --crd-group <group>       an API group, besides workflows.kubeplus and platformapi.kubeplus, whose CRDs and
                                webhooks the provider may manage (create only; repeatable)
      ${ADOPT_FLAG}         create only: label an existing namespace that already holds objects as managed by
                                KubePlus (the provider may then read and change everything in it)
      --kubelet-proxy           also grant nodes/proxy get, for a metrics-collector with kubeletAccess=proxy
                                (create only; off by default: nodes/proxy reaches every kubelet endpoint)
      --allow-webhook-url       let the provider's webhooks and CRD conversions call a loopback URL instead of a
                                Service in its namespace (create only; for a KubePlus run beside the apiserver,
                                as make up does)
  -h, --help                    show this help
`;

class UsageError extends Error {}

interface Parsed {
  readonly action: Action;
  readonly namespace: string;
  readonly values: Record<string, string | boolean | string[] | undefined>;
}

function parse(argv: readonly string[]): Parsed | "help" {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      kubeconfig: { type: "string", short: "k" },
      apiserverurl: { type: "string", short: "s" },
      filename: { type: "string", short: "f" },
      clustername: { type: "string", short: "x" },
      permissionfile: { type: "string", short: "p" },
      consumer: { type: "string", short: "c" },
      duration: { type: "string" },
      "legacy-token": { type: "boolean" },
      "crd-group": { type: "string", multiple: true },
      "adopt-namespace": { type: "boolean" },
      "kubelet-proxy": { type: "boolean" },
      "allow-webhook-url": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return "help";
  const [action, namespace, ...rest] = positionals;
  if (!action || !(ACTIONS as readonly string[]).includes(action))
    throw new UsageError(
      `expected an action, one of ${ACTIONS.join(", ")}${action ? `; got "${action}"` : ""}`,
    );
  if (!namespace)
    throw new UsageError(`${action} needs a namespace: provider-kubeconfig ${action} <namespace>`);
  if (rest.length > 0) throw new UsageError(`unexpected arguments: ${rest.join(" ")}`);
  return { action: action as Action, namespace, values };
}

function str(values: Parsed["values"], key: string): string | undefined {
  const v = values[key];
  return typeof v === "string" ? v : undefined;
}

/** A --duration that cannot be issued is a usage error, found before anything in the cluster is touched. */
function checkDuration(values: Parsed["values"], entity: "provider" | "consumer"): void {
  const given = str(values, "duration");
  if (given === undefined || values["legacy-token"] === true) return;
  let seconds: number;
  try {
    seconds = parseDuration(given);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const problem = tokenLifetimeProblem(entity, seconds);
  if (problem) throw new UsageError(`--duration ${given}: ${problem}`);
}

function outputFile(values: Parsed["values"], serviceAccount: string): string {
  const name = str(values, "filename") ?? serviceAccount;
  return name.endsWith(".json") ? name : `${name}.json`;
}

async function permissionRules(
  parsed: Parsed,
  cwd: string,
): Promise<ReturnType<typeof parsePermissionFile>> {
  const file = str(parsed.values, "permissionfile");
  if (!file)
    throw new UsageError(
      `${parsed.action} needs a permission file: pass -p/--permissionfile <file>`,
    );
  const text = await readFile(resolve(cwd, file), "utf8").catch((err: unknown) => {
    throw new UsageError(`cannot read the permission file ${file}: ${(err as Error).message}`);
  });
  return parsePermissionFile(text, file);
}

interface Context {
  readonly parsed: Parsed;
  readonly io: CliIO;
  readonly cluster: ClusterIO;
  readonly ref: IdentityRef;
  readonly file: string;
  readonly title: string;
}

async function writeKubeconfig(ctx: Context): Promise<void> {
  const { values } = ctx.parsed;
  const entity = entityOf(ctx.ref.serviceAccount);
  const issued = await issueKubeconfig(ctx.cluster, ctx.ref, {
    server: str(values, "apiserverurl"),
    clusterName: str(values, "clustername") ?? ctx.ref.serviceAccount,
    durationSeconds: parseDuration(str(values, "duration") ?? DEFAULT_DURATION[entity]),
    legacyToken: values["legacy-token"] === true,
  });
  await storeKubeconfig(ctx.cluster, ctx.ref, issued, ctx.file);
  await writeFile(resolve(ctx.io.cwd, ctx.file), JSON.stringify(issued.config), { mode: 0o600 });
  ctx.io.out(`${ctx.title} kubeconfig created: ${ctx.file}`);
  ctx.io.out(
    issued.expiresAt
      ? `Its token expires at ${issued.expiresAt}; write a fresh one with: provider-kubeconfig extract ${ctx.ref.namespace}${entity === "consumer" ? ` -c ${ctx.ref.serviceAccount}` : ""}`
      : "Its token never expires (--legacy-token); delete the identity to revoke it.",
  );
}

function reportNamespace(ctx: Context, outcome: NamespaceOutcome): void {
  if (outcome.kind === "created") ctx.io.out(`Namespace ${ctx.ref.namespace} created.`);
  if (outcome.kind === "adopted")
    ctx.io.out(
      `Namespace ${ctx.ref.namespace} existed and is now managed by KubePlus: the provider may read and change everything in it (${outcome.holds}). provider-kubeconfig delete takes the labels away again.`,
    );
}

async function create(ctx: Context): Promise<void> {
  if (str(ctx.parsed.values, "permissionfile"))
    throw new UsageError("create takes no permission file: create first, then update -p <file>");
  const options = { adoptNamespace: ctx.parsed.values["adopt-namespace"] === true };
  if (entityOf(ctx.ref.serviceAccount) === "provider") {
    const groups = ctx.parsed.values["crd-group"];
    const done = await setUpProvider(ctx.cluster, ctx.ref, Array.isArray(groups) ? groups : [], {
      ...options,
      kubeletProxy: ctx.parsed.values["kubelet-proxy"] === true,
      allowWebhookUrl: ctx.parsed.values["allow-webhook-url"] === true,
    });
    reportNamespace(ctx, done.namespace);
    if (done.restoredBindings.length > 0)
      ctx.io.out(
        `Restored the provider's RoleBinding ${AccessNames.TenantRole} in ${String(done.restoredBindings.length)} instance namespace(s): ${done.restoredBindings.join(", ")}`,
      );
  } else {
    reportNamespace(ctx, (await setUpConsumer(ctx.cluster, ctx.ref, options)).namespace);
  }
  await writeKubeconfig(ctx);
}

async function extract(ctx: Context): Promise<void> {
  const { namespace, serviceAccount } = ctx.ref;
  if (!(await ctx.cluster.get(Paths.serviceAccount(namespace, serviceAccount))))
    throw new UsageError(
      `${namespace}/${serviceAccount} does not exist: run provider-kubeconfig create ${namespace} first`,
    );
  await writeKubeconfig(ctx);
}

async function update(ctx: Context): Promise<void> {
  const rules = await permissionRules(ctx.parsed, ctx.io.cwd);
  await grantPermissions(ctx.cluster, ctx.ref, rules);
  ctx.io.out(`${ctx.title} permissions updated: ${ctx.file} (${rules.length} rule(s) granted)`);
}

/** A command that could not do what was asked: exit code 1, the message on stderr. */
class NotDoneError extends Error {}

async function revoke(ctx: Context): Promise<void> {
  const rules = await permissionRules(ctx.parsed, ctx.io.cwd);
  const result = await revokePermissions(ctx.cluster, ctx.ref, rules);
  const who = `${ctx.ref.namespace}/${ctx.ref.serviceAccount}`;
  if (result.outcome === "revoked") {
    ctx.io.out(
      `${ctx.title} permissions revoked: ${ctx.file} (from ClusterRole ${result.role}${result.deleted ? ", now empty and deleted with its binding" : ""})`,
    );
    return;
  }
  if (result.outcome === "nothing-to-revoke")
    throw new NotDoneError(
      `nothing revoked: ${who} holds none of these permissions (${result.wanted}) in ClusterRole ${result.roles.join(" or ")}`,
    );
  throw new NotDoneError(
    `nothing revoked: ${who} has no role that could hold these permissions (${result.wanted}); looked for ${result.lookedFor.join("; ")}. Was the identity created (provider-kubeconfig create ${ctx.ref.namespace}${entityOf(ctx.ref.serviceAccount) === "consumer" ? ` -c ${ctx.ref.serviceAccount}` : ""})?`,
  );
}

async function remove(ctx: Context): Promise<void> {
  await deleteIdentity(ctx.cluster, ctx.ref);
  await rm(resolve(ctx.io.cwd, ctx.file), { force: true });
  ctx.io.out(
    `${ctx.title} ${ctx.ref.namespace}/${ctx.ref.serviceAccount} deleted, with its permissions and ${ctx.file}.`,
  );
}

const HANDLERS: Record<Action, (ctx: Context) => Promise<void>> = {
  create,
  update,
  revoke,
  extract,
  delete: remove,
};

/** Runs one command; returns the exit code. Every failure is one clear line on stderr and exit code 1. */
export async function runProviderKubeconfig(argv: readonly string[], io: CliIO): Promise<number> {
  try {
    const parsed = parse(argv);
    if (parsed === "help") {
      io.out(HELP);
      return 0;
    }
    const serviceAccount = str(parsed.values, "consumer") ?? AccessNames.Provider;
    const kc = io.loadKubeconfig(str(parsed.values, "kubeconfig"));
    const entity = entityOf(serviceAccount);
    checkDuration(parsed.values, entity);
    await HANDLERS[parsed.action]({
      parsed,
      io,
      cluster: new ClusterIO(kc, FIELD_MANAGER),
      ref: { namespace: parsed.namespace, serviceAccount },
      file: outputFile(parsed.values, serviceAccount),
      title: entity === "provider" ? "Provider" : "Consumer",
    });
    return 0;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    const usage =
      err instanceof UsageError || (typeof code === "string" && code.startsWith("ERR_PARSE_ARGS"));
    io.err(`error: ${(err as Error).message}`);
    if (usage) io.err("Run provider-kubeconfig --help for usage.");
    return 1;
  }
}
