/**
 * One instance: its Ready state and conditions, its events, the objects of its release in the instance's own
 * namespace (pods with each container's log, services with the app's URL, deployments), edit, and delete after
 * the user types the instance's name. The instance, its events and its pods are kept live by watches.
 */
import type { JSX, TargetedSubmitEvent } from "preact";
import { useEffect, useState } from "preact/hooks";
import { instancesPath, resourcePath, type Api, type CatalogKind, type KubeList } from "./api.js";
import { age, findCondition, instanceRow, type Condition, type WithConditions } from "./columns.js";
import { LogView } from "./log-view.js";
import { releaseName } from "./metrics.js";
import {
  deploymentRow,
  eventRows,
  ingressUrls,
  podRow,
  releaseNamespace,
  serviceRow,
  type Deployment,
  type Ingress,
  type KubeEvent,
  type Pod,
  type PodRow,
  type Service,
} from "./objects.js";
import { str } from "./read.js";
import { routeHash } from "./routes.js";
import { ErrorBox, TableBox, useNow, useTitle } from "./ui.js";
import { UsageCharts } from "./usage-charts.js";
import { useWatchedList } from "./use-watched-list.js";
import type { Listed } from "./watch.js";

type InstanceObject = Listed &
  WithConditions & {
    readonly status?: {
      readonly namespace?: string;
      readonly helmrelease?: string;
      readonly chart?: { readonly name?: string; readonly version?: string };
      readonly error?: string;
    } | null;
  };

const core = { group: "", version: "v1" };
const apps = { group: "apps", version: "v1" };
const networking = { group: "networking.k8s.io", version: "v1" };

export function InstancePage(props: {
  readonly api: Api;
  readonly kind: CatalogKind;
  readonly namespace: string;
  readonly name: string;
}): JSX.Element {
  const { api, kind, namespace, name } = props;
  useTitle(name);
  const now = useNow();
  const watched = useWatchedList<InstanceObject>(api, instancesPath(kind, namespace), {
    fieldSelector: `metadata.name=${name}`,
  });
  const events = useWatchedList<Listed & KubeEvent>(api, resourcePath(core, "events", namespace), {
    fieldSelector: `involvedObject.name=${name}`,
  });
  const instance = watched.items?.[0];
  const releaseNs = releaseNamespace(instance?.status);

  return (
    <section data-testid="page-instance" aria-labelledby="instance-title">
      <h1 id="instance-title">
        {kind.kind} {name}
      </h1>
      <ErrorBox id="instance-error" error={watched.error} />
      <InstanceHead watched={watched} kind={kind} name={name} namespace={namespace} now={now} />
      <h2>Conditions</h2>
      <ConditionsTable conditions={instance?.status?.conditions ?? []} now={now} />

      <h2>Events</h2>
      <ErrorBox error={events.error} />
      <EventsTable events={events.items ?? []} now={now} />

      {releaseNs && (
        <UsageCharts
          api={api}
          namespace={releaseNs}
          release={releaseName(instance?.status, name)}
        />
      )}
      {releaseNs && <ReleaseSection api={api} namespace={releaseNs} now={now} />}

      {instance && kind.verbs.includes("delete") && (
        <DeleteInstance api={api} kind={kind} namespace={namespace} name={name} />
      )}
    </section>
  );
}

function InstanceHead(props: {
  readonly watched: { readonly items: readonly InstanceObject[] | undefined };
  readonly kind: CatalogKind;
  readonly name: string;
  readonly namespace: string;
  readonly now: Date;
}): JSX.Element | null {
  const { kind, name } = props;
  const items = props.watched.items;
  if (items === undefined) return <p role="status">Loading…</p>;
  const instance = items[0];
  if (!instance) return <Missing kind={kind} name={name} namespace={props.namespace} />;
  return (
    <>
      <InstanceSummary instance={instance} now={props.now} />
      {kind.verbs.includes("update") && (
        <p class="actions">
          <a
            id="edit-instance"
            class="button"
            href={routeHash({ page: "edit", plural: kind.plural, name })}
          >
            Edit
          </a>
        </p>
      )}
    </>
  );
}

function Missing(props: {
  readonly kind: CatalogKind;
  readonly name: string;
  readonly namespace: string;
}): JSX.Element {
  return (
    <p id="instance-missing">
      {props.kind.kind} {props.name} does not exist in namespace {props.namespace} (any more).{" "}
      <a href={routeHash({ page: "kind", plural: props.kind.plural })}>Back to the list</a>
    </p>
  );
}

function InstanceSummary(props: {
  readonly instance: InstanceObject;
  readonly now: Date;
}): JSX.Element {
  const { instance } = props;
  const row = instanceRow(instance, props.now);
  const stalled = findCondition(instance.status?.conditions, "Stalled");
  const dash = (v: string): string => v || "—";
  return (
    <dl id="instance-summary" class="summary">
      <dt>Ready</dt>
      <dd data-testid="instance-ready">{dash(row.ready)}</dd>
      <dt>Reason</dt>
      <dd data-testid="instance-reason">{dash(row.reason)}</dd>
      <dt>Message</dt>
      <dd data-testid="instance-message">{dash(row.message || str(stalled, "message"))}</dd>
      <dt>Namespace of its objects</dt>
      <dd data-testid="instance-namespace">{dash(releaseNamespace(instance.status) ?? "")}</dd>
      <dt>Chart</dt>
      <dd data-testid="instance-chart">
        {dash(
          `${str(instance, "status", "chart", "name")} ${str(instance, "status", "chart", "version")}`.trim(),
        )}
      </dd>
      <dt>Age</dt>
      <dd>{row.age}</dd>
    </dl>
  );
}

function ConditionsTable(props: {
  readonly conditions: readonly Condition[];
  readonly now: Date;
}): JSX.Element {
  const { conditions, now } = props;
  if (conditions.length === 0) return <p id="conditions-empty">No conditions yet.</p>;
  return (
    <TableBox label="Conditions">
      <table id="conditions">
        <thead>
          <tr>
            <th scope="col">TYPE</th>
            <th scope="col">STATUS</th>
            <th scope="col">REASON</th>
            <th scope="col">MESSAGE</th>
            <th scope="col">SINCE</th>
          </tr>
        </thead>
        <tbody>
          {conditions.map((c) => (
            <tr key={c.type} data-testid="condition-row" data-type={c.type}>
              <td>{c.type}</td>
              <td>{c.status}</td>
              <td>{c.reason}</td>
              <td class="message">{c.message}</td>
              <td>{age(c.lastTransitionTime, now)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableBox>
  );
}

/** The objects of the release and the log of the container the user chose. */
function ReleaseSection(props: {
  readonly api: Api;
  readonly namespace: string;
  readonly now: Date;
}): JSX.Element {
  const [log, setLog] = useState<{ pod: string; container: string } | undefined>(undefined);
  return (
    <>
      <ReleaseObjects
        api={props.api}
        namespace={props.namespace}
        now={props.now}
        onLog={(pod, container) => {
          setLog({ pod, container });
        }}
      />
      {log && (
        <LogView
          key={`${log.pod}/${log.container}`}
          api={props.api}
          namespace={props.namespace}
          pod={log.pod}
          container={log.container}
          onClose={() => {
            setLog(undefined);
          }}
        />
      )}
    </>
  );
}

function EventsTable(props: {
  readonly events: readonly KubeEvent[];
  readonly now: Date;
}): JSX.Element {
  const rows = eventRows(props.events, props.now);
  if (rows.length === 0) return <p id="events-empty">No events.</p>;
  return (
    <TableBox label="Events">
      <table id="events">
        <thead>
          <tr>
            <th scope="col">LAST SEEN</th>
            <th scope="col">TYPE</th>
            <th scope="col">REASON</th>
            <th scope="col">FROM</th>
            <th scope="col">MESSAGE</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.key} data-testid="event-row">
              <td>{r.age}</td>
              <td>{r.type}</td>
              <td>{r.reason}</td>
              <td>{r.from}</td>
              <td class="message">{r.message}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableBox>
  );
}

/** The objects in the instance's namespace: pods (watched), services and deployments (listed; refresh on demand). */
function ReleaseObjects(props: {
  readonly api: Api;
  readonly namespace: string;
  readonly now: Date;
  readonly onLog: (pod: string, container: string) => void;
}): JSX.Element {
  const { api, namespace, now } = props;
  const pods = useWatchedList<Listed & Pod>(api, resourcePath(core, "pods", namespace));
  const { others, error, refresh } = useReleaseObjects(api, namespace, pods.items?.length);
  const podRows = (pods.items ?? []).map((p) => podRow(p, now));
  const services = (others?.services ?? []).map(serviceRow);
  const deployments = (others?.deployments ?? []).map((d) => deploymentRow(d, now));
  return (
    <section id="objects" aria-labelledby="objects-title">
      <h2 id="objects-title">Objects in namespace {namespace}</h2>
      <ErrorBox error={pods.error ?? error} />
      <h3>Pods</h3>
      <PodsTable rows={podRows} onLog={props.onLog} />
      <h3>Services</h3>
      {services.length === 0 ? (
        <p>No services.</p>
      ) : (
        <TableBox label="Services">
          <table id="services">
            <thead>
              <tr>
                <th scope="col">NAME</th>
                <th scope="col">TYPE</th>
                <th scope="col">CLUSTER-IP</th>
                <th scope="col">PORTS</th>
                <th scope="col">URL</th>
              </tr>
            </thead>
            <tbody>
              {services.map((s) => (
                <tr key={s.name} data-testid="service-row" data-name={s.name}>
                  <td>{s.name}</td>
                  <td>{s.type}</td>
                  <td>{s.clusterIP}</td>
                  <td>{s.ports}</td>
                  <td>
                    {s.urls.map((u) => (
                      <a
                        key={u}
                        href={u}
                        data-testid="app-url"
                        rel="noreferrer noopener"
                        target="_blank"
                      >
                        {u}
                      </a>
                    ))}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableBox>
      )}
      <IngressList ingresses={others?.ingresses ?? []} />
      <h3>Deployments</h3>
      {deployments.length === 0 ? (
        <p>No deployments.</p>
      ) : (
        <TableBox label="Deployments">
          <table id="deployments">
            <thead>
              <tr>
                <th scope="col">NAME</th>
                <th scope="col">READY</th>
                <th scope="col">UP-TO-DATE</th>
                <th scope="col">AVAILABLE</th>
                <th scope="col">AGE</th>
              </tr>
            </thead>
            <tbody>
              {deployments.map((d) => (
                <tr key={d.name} data-testid="deployment-row" data-name={d.name}>
                  <td>{d.name}</td>
                  <td>{d.ready}</td>
                  <td>{d.upToDate}</td>
                  <td>{d.available}</td>
                  <td>{d.age}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableBox>
      )}
      <button
        id="refresh-objects"
        type="button"
        class="secondary"
        onClick={() => {
          refresh();
        }}
      >
        Refresh services and deployments
      </button>
    </section>
  );
}

function DeleteInstance(props: {
  readonly api: Api;
  readonly kind: CatalogKind;
  readonly namespace: string;
  readonly name: string;
}): JSX.Element {
  const { api, kind, namespace, name } = props;
  const [open, setOpen] = useState(false);
  const [typed, setTyped] = useState("");
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const submit = async (e: TargetedSubmitEvent<HTMLFormElement>): Promise<void> => {
    e.preventDefault();
    if (typed !== name) return;
    setBusy(true);
    try {
      await api.remove(instancesPath(kind, namespace, name));
      location.hash = routeHash({ page: "kind", plural: kind.plural });
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section aria-labelledby="delete-title" class="danger-zone">
      <h2 id="delete-title">Delete</h2>
      {!open ? (
        <button
          id="delete-instance"
          type="button"
          class="danger"
          onClick={() => {
            setOpen(true);
          }}
        >
          Delete {name}…
        </button>
      ) : (
        <form id="delete-confirm" onSubmit={(e) => void submit(e)}>
          <p>
            Deleting {kind.kind} {name} uninstalls its release and deletes its namespace with
            everything in it.
          </p>
          <div class="field">
            <label for="delete-confirm-name">Type the instance's name, {name}, to confirm</label>
            <input
              id="delete-confirm-name"
              type="text"
              autocomplete="off"
              value={typed}
              onInput={(e) => {
                setTyped(e.currentTarget.value);
              }}
            />
          </div>
          <ErrorBox id="delete-error" error={error} />
          <div class="actions">
            <button
              id="delete-confirm-submit"
              type="submit"
              class="danger"
              disabled={typed !== name || busy}
            >
              Delete
            </button>
            <button
              id="delete-cancel"
              type="button"
              class="secondary"
              onClick={() => {
                setOpen(false);
                setTyped("");
              }}
            >
              Cancel
            </button>
          </div>
        </form>
      )}
    </section>
  );
}

function IngressList(props: { readonly ingresses: readonly Ingress[] }): JSX.Element | null {
  if (props.ingresses.length === 0) return null;
  return (
    <>
      <h3>Ingresses</h3>
      <ul id="ingresses">
        {props.ingresses.map((ing) => (
          <li
            key={ing.metadata?.name ?? ""}
            data-testid="ingress-row"
            data-name={ing.metadata?.name}
          >
            {ing.metadata?.name}:{" "}
            {ingressUrls(ing).map((u) => (
              <a key={u} href={u} data-testid="app-url" rel="noreferrer noopener" target="_blank">
                {u}
              </a>
            ))}
          </li>
        ))}
      </ul>
    </>
  );
}

interface ReleaseOthers {
  readonly services: readonly Service[];
  readonly deployments: readonly Deployment[];
  readonly ingresses: readonly Ingress[];
}

/** The release's services, deployments and ingresses: listed when the pods change, and on refresh. */
function useReleaseObjects(
  api: Api,
  namespace: string,
  podCount: number | undefined,
): { others: ReleaseOthers | undefined; error: unknown; refresh: () => void } {
  const [others, setOthers] = useState<ReleaseOthers>();
  const [error, setError] = useState<unknown>(undefined);
  const [round, setRound] = useState(0);
  useEffect(() => {
    let gone = false;
    Promise.all([
      api.get<KubeList<Service>>(resourcePath(core, "services", namespace)),
      api.get<KubeList<Deployment>>(resourcePath(apps, "deployments", namespace)),
      // Ingresses are optional: a user who may not list them still sees the rest.
      api
        .get<KubeList<Ingress>>(resourcePath(networking, "ingresses", namespace))
        .catch((): KubeList<Ingress> => ({ items: [] })),
    ]).then(
      ([s, d, i]) => {
        if (gone) return;
        setOthers({
          services: [...(s.items ?? [])],
          deployments: [...(d.items ?? [])],
          ingresses: [...(i.items ?? [])],
        });
        setError(undefined);
      },
      (err: unknown) => {
        if (!gone) setError(err);
      },
    );
    return () => {
      gone = true;
    };
  }, [api, namespace, round, podCount]);

  return {
    others,
    error,
    refresh: () => {
      setRound((r) => r + 1);
    },
  };
}

function PodsTable(props: {
  readonly rows: readonly PodRow[];
  readonly onLog: (pod: string, container: string) => void;
}): JSX.Element {
  const podRows = props.rows;
  return (
    <>
      {podRows.length === 0 ? (
        <p>No pods.</p>
      ) : (
        <TableBox label="Pods">
          <table id="pods">
            <thead>
              <tr>
                <th scope="col">NAME</th>
                <th scope="col">READY</th>
                <th scope="col">STATUS</th>
                <th scope="col">RESTARTS</th>
                <th scope="col">AGE</th>
                <th scope="col">LOGS</th>
              </tr>
            </thead>
            <tbody>
              {podRows.map((p) => (
                <tr key={p.name} data-testid="pod-row" data-name={p.name}>
                  <td>{p.name}</td>
                  <td>{p.ready}</td>
                  <td>{p.status}</td>
                  <td>{p.restarts}</td>
                  <td>{p.age}</td>
                  <td>
                    {p.containers.map((c) => (
                      <button
                        key={c}
                        type="button"
                        class="secondary small"
                        data-testid="follow-log"
                        data-pod={p.name}
                        data-container={c}
                        onClick={() => {
                          props.onLog(p.name, c);
                        }}
                      >
                        Follow log of {c}
                      </button>
                    ))}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableBox>
      )}
    </>
  );
}
