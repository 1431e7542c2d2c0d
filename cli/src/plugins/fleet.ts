import type { KubeConfig } from "@kubernetes/client-node";
import { ClusterIO } from "@kubeplus/access";
import type { ResourceComposition } from "@kubeplus/api";
import { parsePluginArgs, type Format } from "../common/args.js";
import { resolveKind } from "../common/instances.js";
import { render, table } from "../common/output.js";
import { findKubeplusNamespace, runPlugin, UsageError, type PluginIO } from "../common/plugin.js";

export const FLEET_HELP = `How a kind's fleet moves to its composition's chart: the rollout's phase and wave, the counts, the
instances the compatibility gate holds; pause and resume the rollout.

Usage:
  kubectl fleet status <Kind> [-k <kubeconfig>] [-o table|json|yaml]
  kubectl fleet pause <Kind> [-k <kubeconfig>]
  kubectl fleet resume <Kind> [-k <kubeconfig>]

pause sets the composition's spec.upgrade.paused: no instance starts moving to a new chart (those under way
finish; the instances say UpgradePaused). resume clears it. Pin one instance instead with the annotation
kubeplus.dev/pin-chart=<version> (kubectl annotate <kind> <name> kubeplus.dev/pin-chart=0.0.2).

Flags:
  -k, --kubeconfig <path>     the provider's kubeconfig (default: $KUBECONFIG, else ~/.kube/config)
      --kubeplus-namespace    the KubePlus namespace (default: found from the kubeconfig)
`;

const COMPOSITIONS = (ns: string): string =>
  `/apis/workflows.kubeplus/v1alpha1/namespaces/${ns}/resourcecompositions`;

/** The composition in `ns` that serves `kind`. */
async function compositionOf(
  io: ClusterIO,
  ns: string,
  kind: string,
): Promise<ResourceComposition> {
  const list = await io.get<{ items: ResourceComposition[] }>(COMPOSITIONS(ns));
  const found = list?.items.find((rc) => rc.spec.newResource.resource.kind === kind);
  if (!found) throw new Error(`no ResourceComposition in namespace ${ns} serves kind ${kind}`);
  return found;
}

/** What `fleet status` shows, and prints with -o json|yaml. */
export interface FleetView {
  readonly composition: string;
  readonly kind: string;
  readonly chart: string;
  readonly paused: boolean;
  readonly instances: NonNullable<ResourceComposition["status"]>["instances"];
  readonly rollout: NonNullable<ResourceComposition["status"]>["rollout"];
  readonly compatibility: NonNullable<ResourceComposition["status"]>["compatibility"];
}

export function fleetView(rc: ResourceComposition): FleetView {
  const chart = rc.status?.chart;
  return {
    composition: `${rc.metadata.namespace ?? ""}/${rc.metadata.name ?? ""}`,
    kind: rc.spec.newResource.resource.kind,
    chart: chart ? `${chart.name ?? ""}-${chart.version ?? ""}` : "",
    paused: rc.spec.upgrade?.paused === true,
    instances: rc.status?.instances,
    rollout: rc.status?.rollout,
    compatibility: rc.status?.compatibility,
  };
}

const n = (value: number | undefined): string => String(value ?? 0);

const phaseOf = (v: FleetView): string => {
  const phase = v.rollout?.phase;
  if (v.paused && phase !== "Done") return "Paused";
  return phase ?? "-";
};

function summaryRow(v: FleetView): string[] {
  const i = v.instances ?? {};
  const r = v.rollout ?? {};
  return [
    v.composition,
    v.kind,
    v.chart || "-",
    phaseOf(v),
    r.wave === undefined ? "-" : `${n(r.wave)}/${n(r.waves)}`,
    `${n(i.upgraded)}/${n(i.total)}`,
    n(i.pending),
    n(i.failed),
    n(i.pinned),
  ];
}

/** The instances the compatibility gate holds, one line each with their fields. */
function heldLines(gate: FleetView["compatibility"]): string[] {
  if (!gate || (gate.incompatibleCount ?? 0) === 0) return [];
  return [
    `Held by the compatibility gate (chart ${gate.chart ?? ""}): ${n(gate.incompatibleCount)} instance(s)`,
    ...(gate.incompatible ?? []).map(
      (held) =>
        `  ${held.namespace}/${held.name}: ${held.problems.map((p) => `${p.path}: ${p.detail}`).join("; ")}`,
    ),
  ];
}

/** kubectl-style table, then the rollout's message and the instances the gate holds, one per line. */
export function fleetTable(v: FleetView): string {
  const rows = table([
    ["COMPOSITION", "KIND", "CHART", "PHASE", "WAVE", "UPGRADED", "PENDING", "FAILED", "PINNED"],
    summaryRow(v),
  ]);
  const message = v.rollout?.message;
  const lines = [
    rows.trimEnd(),
    ...(message ? [`Rollout: ${message}`] : []),
    ...heldLines(v.compatibility),
  ];
  return `${lines.join("\n")}\n`;
}

async function setPaused(io: ClusterIO, rc: ResourceComposition, paused: boolean): Promise<string> {
  const ns = rc.metadata.namespace ?? "";
  const name = rc.metadata.name ?? "";
  await io.mergePatch(`${COMPOSITIONS(ns)}/${name}`, { spec: { upgrade: { paused } } });
  return paused
    ? `resourcecomposition.workflows.kubeplus/${name} paused: no instance starts moving to a new chart (those under way finish)\n`
    : `resourcecomposition.workflows.kubeplus/${name} resumed\n`;
}

async function fleetCommand(
  kc: KubeConfig,
  action: string,
  kindArg: string,
  o: { namespace: string | undefined; output: Format | undefined },
): Promise<string> {
  const kind = (await resolveKind(kc, kindArg)).kind;
  const ns = await findKubeplusNamespace(kc, o.namespace);
  const io = new ClusterIO(kc, "kubectl-kubeplus");
  const rc = await compositionOf(io, ns, kind);
  if (action === "status") {
    const view = fleetView(rc);
    return render(o.output, view, () => fleetTable(view));
  }
  return setPaused(io, rc, action === "pause");
}

export function runFleet(argv: readonly string[], io: PluginIO): Promise<number> {
  return runPlugin("fleet", io, async () => {
    const args = parsePluginArgs(
      argv,
      {
        options: { "kubeplus-namespace": { type: "string" } },
        formats: ["table", "json", "yaml"],
        help: FLEET_HELP,
      },
      io.out,
    );
    if (!args) return;
    const [action = "", kindArg, ...rest] = args.positionals;
    if (!["status", "pause", "resume"].includes(action) || !kindArg || rest.length > 0)
      throw new UsageError("expected: status|pause|resume <Kind>");
    if (action !== "status" && args.output !== undefined)
      throw new UsageError(`-o applies to fleet status only, not to fleet ${action}`);
    const kc = await io.loadKubeconfig(args.target);
    const namespace = args.values["kubeplus-namespace"];
    io.out(
      await fleetCommand(kc, action, kindArg, {
        namespace: typeof namespace === "string" ? namespace : undefined,
        output: args.output,
      }),
    );
  });
}
