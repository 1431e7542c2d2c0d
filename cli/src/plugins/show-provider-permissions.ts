import { AccessNames, ClusterIO, providerPolicies } from "@kubeplus/access";
import { kubeRequest, whoAmI } from "@kubeplus/kube";
import { render, table } from "../common/output.js";
import { findKubeplusNamespace, runPlugin, UsageError, type PluginIO } from "../common/plugin.js";
import { parsePluginArgs } from "../common/args.js";

export const SHOW_HELP = `Show what the KubePlus provider identity may do: its RBAC rules in a namespace, and the admission policies
that fence them.

Usage:
  kubectl show provider permissions [<namespace>] [-k <kubeconfig>] [-n <kubeplus-namespace>] [-o table|json|yaml]

With an administrator's kubeconfig the provider is impersonated; with the provider's own, it asks for itself.
<namespace> is where namespaced rules are evaluated (default: the KubePlus namespace).
`;

interface ResourceRule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
}
interface NonResourceRule {
  verbs: string[];
  nonResourceURLs?: string[];
}
interface RulesReview {
  status: { resourceRules: ResourceRule[]; nonResourceRules: NonResourceRule[] };
}

const list = (v: readonly string[] | undefined): string => `[${(v ?? []).join(" ")}]`;

function ruleRows(review: RulesReview): string[][] {
  const rows = review.status.resourceRules.flatMap((r) =>
    (r.resources ?? []).flatMap((res) =>
      (r.apiGroups ?? [""]).map((g) => [
        g ? `${res}.${g}` : res,
        "[]",
        list(r.resourceNames),
        list(r.verbs),
      ]),
    ),
  );
  for (const r of review.status.nonResourceRules)
    rows.push(["", list(r.nonResourceURLs), "[]", list(r.verbs)]);
  return rows.sort((a, b) => (a[0] ?? "").localeCompare(b[0] ?? ""));
}

export function runShowProviderPermissions(argv: readonly string[], io: PluginIO): Promise<number> {
  return runPlugin("show provider permissions", io, async () => {
    const args = parsePluginArgs(
      argv,
      {
        options: {
          namespace: { type: "string", short: "n" },
        },
        formats: ["table", "json", "yaml"],
        help: SHOW_HELP,
      },
      io.out,
    );
    if (!args) return;
    const { values, positionals } = args;
    if (positionals.length > 1) throw new UsageError("expected at most one namespace");
    const kc = await io.loadKubeconfig(args.target);
    const kpNamespace = await findKubeplusNamespace(kc, values.namespace);
    const where = positionals[0] ?? kpNamespace;
    const provider = `system:serviceaccount:${kpNamespace}:${AccessNames.Provider}`;
    const me = await whoAmI(kc);
    const review = (await kubeRequest(
      kc,
      "POST",
      "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews",
      {
        body: {
          apiVersion: "authorization.k8s.io/v1",
          kind: "SelfSubjectRulesReview",
          spec: { namespace: where },
        },
        headers: me === provider ? {} : { "Impersonate-User": provider },
      },
    )) as RulesReview;
    const io2 = new ClusterIO(kc, "kubectl-kubeplus");
    const policies: { name: string; rules: string[] }[] = [];
    for (const p of providerPolicies(kpNamespace).filter(
      (m) => m.kind === "ValidatingAdmissionPolicy",
    )) {
      const live = await io2
        .get<{ spec: { validations: { message?: string; messageExpression?: string }[] } }>(
          `/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies/${p.metadata.name}`,
        )
        .catch(() => undefined);
      const source = live ?? (p as unknown as NonNullable<typeof live>);
      policies.push({
        name: p.metadata.name,
        rules: source.spec.validations.map((v) => v.message ?? v.messageExpression ?? ""),
      });
    }
    if (args.output !== "table") {
      io.out(
        render(
          args.output,
          { user: provider, namespace: where, ...review.status, policies },
          () => "",
        ),
      );
      return;
    }
    io.out(`Permissions of ${provider} in namespace ${where} (RBAC):\n`);
    io.out(
      `${table([["Resources", "Non-Resource URLs", "Resource Names", "Verbs"], ...ruleRows(review)])}\n\n`,
    );
    io.out(
      "Fenced by these ValidatingAdmissionPolicies (enforced by the apiserver on the provider's writes):\n",
    );
    for (const p of policies)
      io.out(`  ${p.name}:\n${p.rules.map((r) => `    - ${r}\n`).join("")}`);
  });
}

export const SHOW_CONSUMER_HELP = `Show what a consumer may do in its namespace (its effective RBAC rules there).

Usage:
  kubectl show consumer permissions <namespace> <consumer> [-k <kubeconfig>] [-o table|json|yaml]

The consumer is impersonated, so the kubeconfig must be allowed to impersonate (an administrator's).
`;

export function runShowConsumerPermissions(argv: readonly string[], io: PluginIO): Promise<number> {
  return runPlugin("show consumer permissions", io, async () => {
    const args = parsePluginArgs(
      argv,
      {
        options: {},
        formats: ["table", "json", "yaml"],
        help: SHOW_CONSUMER_HELP,
      },
      io.out,
    );
    if (!args) return;
    const { positionals } = args;
    const [namespace, consumer, ...rest] = positionals;
    if (!namespace || !consumer || rest.length > 0)
      throw new UsageError("expected: <namespace> <consumer>");
    const kc = await io.loadKubeconfig(args.target);
    const user = `system:serviceaccount:${namespace}:${consumer}`;
    const review = (await kubeRequest(
      kc,
      "POST",
      "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews",
      {
        body: {
          apiVersion: "authorization.k8s.io/v1",
          kind: "SelfSubjectRulesReview",
          spec: { namespace },
        },
        headers: { "Impersonate-User": user },
      },
    )) as RulesReview;
    if (args.output !== "table") {
      io.out(render(args.output, { user, namespace, ...review.status }, () => ""));
      return;
    }
    io.out(`Permissions of ${user} in namespace ${namespace} (RBAC):\n`);
    io.out(
      `${table([["Resources", "Non-Resource URLs", "Resource Names", "Verbs"], ...ruleRows(review)])}\n`,
    );
  });
}
