/** A kind's instances in the namespace as `kubectl get` shows them (NAME, READY, REASON, AGE), kept live by a watch. */
import type { JSX } from "preact";
import { instancesPath, type Api, type CatalogKind } from "./api.js";
import { instanceRow, type WithConditions } from "./columns.js";
import { routeHash } from "./routes.js";
import { ErrorBox, TableBox, useNow, useTitle } from "./ui.js";
import { useWatchedList } from "./use-watched-list.js";
import type { Listed } from "./watch.js";

type InstanceObject = Listed & WithConditions;

export function KindPage(props: {
  readonly api: Api;
  readonly kind: CatalogKind;
  readonly namespace: string;
}): JSX.Element {
  const { kind, namespace } = props;
  useTitle(kind.kind);
  const now = useNow();
  const { items, error, live } = useWatchedList<InstanceObject>(
    props.api,
    instancesPath(kind, namespace),
  );
  const rows = (items ?? []).map((o) => instanceRow(o, now));
  return (
    <section data-testid="page-kind" aria-labelledby="kind-title">
      <h1 id="kind-title">{kind.kind}</h1>
      <p>{kind.description}</p>
      <p class="muted">
        Namespace <strong>{namespace}</strong> ·{" "}
        <span id="watch-state" role="status">
          {live ? "live" : "connecting…"}
        </span>
      </p>
      {kind.verbs.includes("create") && (
        <p>
          <a
            id="new-instance"
            class="button"
            href={routeHash({ page: "new", plural: kind.plural })}
          >
            New {kind.kind}
          </a>
        </p>
      )}
      <ErrorBox id="instances-error" error={error} />
      {items === undefined ? (
        <p role="status">Loading…</p>
      ) : rows.length === 0 ? (
        <p id="instances-empty">No {kind.kind} in this namespace yet.</p>
      ) : (
        <TableBox label={`${kind.kind} instances`}>
          <table id="instances">
            <thead>
              <tr>
                <th scope="col">NAME</th>
                <th scope="col">READY</th>
                <th scope="col">REASON</th>
                <th scope="col">AGE</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.name} data-testid="instance-row" data-name={r.name}>
                  <td data-col="name">
                    <a href={routeHash({ page: "instance", plural: kind.plural, name: r.name })}>
                      {r.name}
                    </a>
                  </td>
                  <td data-col="ready">{r.ready}</td>
                  <td data-col="reason" title={r.message}>
                    {r.reason}
                  </td>
                  <td data-col="age">{r.age}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableBox>
      )}
    </section>
  );
}
