/**
 * The provider's view: the compositions in the namespace with their fleet's progress (kept live by a watch of the
 * compositions: a chart upgrade is followed as the helmer counts it), how many instances are on which chart
 * version, and the instances that fail with their reason. Instances are listed across namespaces when the user may,
 * else in the namespace; they are listed again whenever a composition's status changes.
 */
import type { JSX } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError, resourcePath, type Api, type KubeList } from "./api.js";
import {
  chartVersions,
  failingInstances,
  fleetSummary,
  rolloutText,
  type CompositionLike,
  type FailingInstance,
  type InstanceLike,
} from "./fleet.js";
import { ErrorBox, TableBox, useTitle } from "./ui.js";
import { useWatchedList } from "./use-watched-list.js";
import type { Listed } from "./watch.js";

const LIST_EVERY_MS = 3000;

const workflows = { group: "workflows.kubeplus", version: "v1alpha1" };

type Composition = Listed & CompositionLike;

async function listInstances(
  api: Api,
  rc: CompositionLike,
  namespace: string,
): Promise<readonly InstanceLike[]> {
  const r = rc.spec?.newResource?.resource;
  if (!r?.group || !r.version || !r.plural) return [];
  const all = `/apis/${encodeURIComponent(r.group)}/${encodeURIComponent(r.version)}/${encodeURIComponent(r.plural)}`;
  try {
    return (await api.get<KubeList<InstanceLike>>(all)).items ?? [];
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 403) throw err;
    return (
      (
        await api.get<KubeList<InstanceLike>>(
          resourcePath({ group: r.group, version: r.version }, r.plural, namespace),
        )
      ).items ?? []
    );
  }
}

export function ProviderPage(props: {
  readonly api: Api;
  readonly namespace: string;
}): JSX.Element {
  const { api, namespace } = props;
  useTitle("Provider");
  const compositions = useWatchedList<Composition>(
    api,
    resourcePath(workflows, "resourcecompositions", namespace),
  );
  const [instances, setInstances] = useState<Record<string, readonly InstanceLike[]>>({});
  const [error, setError] = useState<unknown>(undefined);
  const items = compositions.items ?? [];
  // Instances are listed again when any composition's status changes (its counts move during a rollout).
  const signature = JSON.stringify(items.map((c) => [c.metadata?.name, c.status]));
  // At most one listing every LIST_EVERY_MS: a rollout changes the counts at every instance it moves.
  const lastList = useRef(0);
  // A listing under way is kept when the counts change again (it is the newest there is); dropped on leaving.
  const mounted = useRef(true);
  useEffect(
    () => () => {
      mounted.current = false;
    },
    [],
  );
  useEffect(() => {
    if (items.length === 0) return;
    const wait = Math.max(0, lastList.current + LIST_EVERY_MS - Date.now());
    const timer = setTimeout(() => {
      lastList.current = Date.now();
      Promise.all(items.map((rc) => listInstances(api, rc, namespace))).then(
        (lists) => {
          if (!mounted.current) return;
          const next: Record<string, readonly InstanceLike[]> = {};
          items.forEach((rc, i) => (next[rc.metadata?.name ?? ""] = lists[i] ?? []));
          setInstances(next);
          setError(undefined);
        },
        (err: unknown) => {
          if (mounted.current) setError(err);
        },
      );
    }, wait);
    return () => {
      clearTimeout(timer);
    };
    // `items` is compared through `signature`.
  }, [api, namespace, signature]);

  const failing: (FailingInstance & { kind: string })[] = items.flatMap((rc) => {
    const kind = rc.spec?.newResource?.resource?.kind ?? "";
    return failingInstances(instances[rc.metadata?.name ?? ""] ?? []).map((f) => ({ ...f, kind }));
  });

  return (
    <section data-testid="page-provider" aria-labelledby="provider-title">
      <h1 id="provider-title">Provider: compositions in {namespace}</h1>
      <p class="muted">
        <span id="watch-state" role="status">
          {compositions.live ? "live" : "connecting…"}
        </span>
      </p>
      <ErrorBox id="provider-error" error={compositions.error ?? error} />
      <h2>Fleet</h2>
      {items.length === 0 ? (
        <p id="compositions-empty">No compositions in this namespace.</p>
      ) : (
        <ul id="compositions" class="cards">
          {items.map((rc) => (
            <FleetCard
              key={rc.metadata?.name ?? ""}
              rc={rc}
              instances={instances[rc.metadata?.name ?? ""] ?? []}
            />
          ))}
        </ul>
      )}
      <h2>Failing instances</h2>
      {failing.length === 0 ? (
        <p id="failing-empty">No instance is failing.</p>
      ) : (
        <TableBox label="Failing instances">
          <table id="failing">
            <thead>
              <tr>
                <th scope="col">NAMESPACE</th>
                <th scope="col">NAME</th>
                <th scope="col">KIND</th>
                <th scope="col">REASON</th>
                <th scope="col">MESSAGE</th>
              </tr>
            </thead>
            <tbody>
              {failing.map((f) => (
                <tr
                  key={`${f.kind}/${f.namespace}/${f.name}`}
                  data-testid="failing-row"
                  data-name={f.name}
                >
                  <td>{f.namespace}</td>
                  <td>{f.name}</td>
                  <td>{f.kind}</td>
                  <td>{f.reason}</td>
                  <td class="message">{f.message}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableBox>
      )}
    </section>
  );
}

/** One composition's fleet: its chart, the rollout's counts and progress, and its instances per chart version. */
function FleetCard(props: {
  readonly rc: CompositionLike;
  readonly instances: readonly InstanceLike[];
}): JSX.Element {
  const f = fleetSummary(props.rc);
  const versions = chartVersions(props.instances);
  return (
    <li class="card" data-testid="composition-row" data-name={f.name}>
      <h3>{f.name}</h3>
      <dl class="summary">
        <dt>Kind</dt>
        <dd data-col="kind">{f.kind}</dd>
        <dt>Chart</dt>
        <dd data-col="chart">{f.chartVersion || "—"}</dd>
        <dt>Ready</dt>
        <dd data-col="ready">
          {f.ready} {f.reason}
        </dd>
        <dt>Upgraded</dt>
        <dd data-col="upgraded">
          {f.upgraded}/{f.total}{" "}
          <progress
            value={f.upgraded}
            max={Math.max(f.total, 1)}
            aria-label={`${f.name}: ${f.upgraded} of ${f.total} instances on the composition's chart`}
          />
        </dd>
        <dt>Pending</dt>
        <dd data-col="pending">{f.pending}</dd>
        <dt>In flight</dt>
        <dd data-col="in-flight">{f.inFlight}</dd>
        <dt>Failed</dt>
        <dd data-col="failed">{f.failed}</dd>
        <dt>Pinned</dt>
        <dd data-col="pinned">{f.pinned}</dd>
        <dt>Held (values do not fit)</dt>
        <dd data-col="incompatible">{f.incompatible}</dd>
        <dt>Rollout</dt>
        <dd data-col="rollout">{rolloutText(f)}</dd>
        <dt>Instances by chart version</dt>
        <dd data-col="versions">
          {versions.length === 0
            ? "none"
            : versions.map((v) => `${v.version || "(none yet)"}: ${v.count}`).join(", ")}
        </dd>
      </dl>
    </li>
  );
}
