import { readFile } from "node:fs/promises";
import type { KubeConfig } from "@kubernetes/client-node";
import { ClusterIO, Paths } from "@kubeplus/access";
import { resolveKind } from "../common/instances.js";
import { render, table } from "../common/output.js";
import { findKubeplusNamespace, runPlugin, UsageError, type PluginIO } from "../common/plugin.js";
import { parsePluginArgs, type Format } from "../common/args.js";

export const LICENSE_HELP = `Licenses limit how many instances of a kind may exist, and until when (crd-hook enforces them at creation).

Usage:
  kubectl license create <Kind> <licenseFile> [-e MM/DD/YYYY] [-n <instances>] [-k <kubeconfig>]
  kubectl license get <Kind> [-k <kubeconfig>] [-o table|json|yaml]
  kubectl license delete <Kind> [-k <kubeconfig>]

Flags:
  -e, --expiry <MM/DD/YYYY>   the last day instances may be created
  -n, --instances <N>         how many instances may exist (at least 1)
  -k, --kubeconfig <path>     the provider's kubeconfig (default: $KUBECONFIG, else ~/.kube/config)
      --kubeplus-namespace    the KubePlus namespace (default: found from the kubeconfig)
`;

/** Checks MM/DD/YYYY as the original accepts it, and that it is a real date. */
export function checkExpiry(text: string): string {
  const m = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(text);
  const bad = new UsageError(`expiry "${text}" is not a date in the form MM/DD/YYYY`);
  if (!m) throw bad;
  const date = new Date(Number(m[3]), Number(m[1]) - 1, Number(m[2]));
  if (date.getMonth() !== Number(m[1]) - 1 || date.getDate() !== Number(m[2])) throw bad;
  return text;
}

function checkInstances(text: string): string {
  if (!/^\d+$/.test(text) || Number(text) < 1)
    throw new UsageError(`instances "${text}" must be a whole number of at least 1`);
  return String(Number(text));
}

interface LicenseArgs {
  readonly action: string;
  readonly kind: string;
  readonly file?: string;
  readonly values: Record<string, string | boolean | undefined>;
  readonly output: Format | undefined;
}

const licenseName = (kind: string): string => `${kind.toLowerCase()}-license`;

async function create(kc: KubeConfig, ns: string, kind: string, a: LicenseArgs): Promise<string> {
  const expiry = typeof a.values.expiry === "string" ? checkExpiry(a.values.expiry) : undefined;
  const instances =
    typeof a.values.instances === "string" ? checkInstances(a.values.instances) : undefined;
  if (!expiry && !instances)
    throw new UsageError(
      "a license needs an expiry (-e MM/DD/YYYY), a number of instances (-n N), or both",
    );
  if (!a.file) throw new UsageError("expected: license create <Kind> <licenseFile>");
  const text = await readFile(a.file, "utf8").catch(() => {
    throw new UsageError(`license file ${a.file} does not exist`);
  });
  const io = new ClusterIO(kc, "kubectl-kubeplus");
  if (await io.get(Paths.configMap(ns, licenseName(kind))))
    throw new Error(
      `a license for ${kind} exists already: delete it first (kubectl license delete ${kind})`,
    );
  await io.post(`/api/v1/namespaces/${ns}/configmaps`, {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: {
      name: licenseName(kind),
      namespace: ns,
      annotations: {
        ...(expiry ? { expiry } : {}),
        ...(instances ? { allowed_instances: instances } : {}),
      },
    },
    data: { license_file: text },
  });
  return `License for ${kind} created.\n`;
}

interface LicenseMap {
  metadata: { annotations?: Record<string, string> };
  data?: { license_file?: string };
}

async function get(kc: KubeConfig, ns: string, kind: string, a: LicenseArgs): Promise<string> {
  const output = a.output;
  const cm = await new ClusterIO(kc, "kubectl-kubeplus").get<LicenseMap>(
    Paths.configMap(ns, licenseName(kind)),
  );
  if (!cm) throw new Error(`no license for ${kind}`);
  const data = {
    kind,
    expiry: cm.metadata.annotations?.expiry ?? "",
    allowedInstances: cm.metadata.annotations?.allowed_instances ?? "",
    licenseFile: cm.data?.license_file ?? "",
  };
  return render(output, data, () =>
    table([
      ["KIND", "EXPIRY", "ALLOWED_INSTANCES", "LICENSE_FILE"],
      [
        kind,
        data.expiry || "-",
        data.allowedInstances || "-",
        data.licenseFile.split("\n")[0] ?? "",
      ],
    ]),
  );
}

async function remove(kc: KubeConfig, ns: string, kind: string): Promise<string> {
  const gone = await new ClusterIO(kc, "kubectl-kubeplus").delete(
    Paths.configMap(ns, licenseName(kind)),
  );
  if (!gone) throw new Error(`no license for ${kind}`);
  return `License for ${kind} deleted.\n`;
}

export function runLicense(argv: readonly string[], io: PluginIO): Promise<number> {
  return runPlugin("license", io, async () => {
    const args = parsePluginArgs(
      argv,
      {
        options: {
          expiry: { type: "string", short: "e" },
          instances: { type: "string", short: "n" },
          "kubeplus-namespace": { type: "string" },
        },
        formats: ["table", "json", "yaml"],
        help: LICENSE_HELP,
      },
      io.out,
    );
    if (!args) return;
    const { values, positionals } = args;
    const [action = "", kindArg, file, ...rest] = positionals;
    if (!["create", "get", "delete"].includes(action) || !kindArg || rest.length > 0)
      throw new UsageError("expected: create|get|delete <Kind> [<licenseFile>]");
    const kc = await io.loadKubeconfig(args.target);
    const kind = (await resolveKind(kc, kindArg)).kind;
    const ns = await findKubeplusNamespace(kc, values["kubeplus-namespace"]);
    if (action !== "get" && values.output !== undefined)
      throw new UsageError(`-o applies to license get only, not to license ${action}`);
    const licenseArgs: LicenseArgs = {
      action,
      kind,
      ...(file ? { file } : {}),
      values,
      output: args.output,
    };
    if (action === "create") io.out(await create(kc, ns, kind, licenseArgs));
    else if (action === "get") io.out(await get(kc, ns, kind, licenseArgs));
    else io.out(await remove(kc, ns, kind));
  });
}
