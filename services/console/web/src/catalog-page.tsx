/** The consumer's catalog: the kinds it may use in the namespace, each with its composition's description. */
import type { JSX } from "preact";
import { useState } from "preact/hooks";
import type { Catalog } from "./api.js";
import { routeHash } from "./routes.js";
import { ErrorBox, useTitle } from "./ui.js";

export function CatalogPage(props: {
  readonly namespace: string;
  readonly catalog: Catalog | undefined;
  readonly error: unknown;
  readonly onNamespace: (ns: string) => void;
}): JSX.Element {
  useTitle("Catalog");
  const [ns, setNs] = useState(props.namespace);
  const kinds = props.catalog?.kinds ?? [];
  return (
    <section data-testid="page-catalog" aria-labelledby="catalog-title">
      <h1 id="catalog-title">Catalog</h1>
      <form
        id="namespace-form"
        class="inline"
        onSubmit={(e) => {
          e.preventDefault();
          if (ns.trim()) props.onNamespace(ns.trim());
        }}
      >
        <label for="namespace">Namespace</label>
        <input
          id="namespace"
          type="text"
          autocomplete="off"
          value={ns}
          onInput={(e) => {
            setNs(e.currentTarget.value);
          }}
        />
        <button id="namespace-apply" type="submit">
          Show
        </button>
      </form>
      <ErrorBox id="catalog-error" error={props.error} />
      {props.catalog === undefined && props.error === undefined ? (
        <p role="status">Loading the catalog…</p>
      ) : kinds.length === 0 ? (
        <p id="catalog-empty">No kind you may use in namespace {props.namespace}.</p>
      ) : (
        <ul id="kinds" class="cards">
          {kinds.map((k) => (
            <li key={`${k.group}/${k.plural}`} data-testid={`kind-${k.plural}`} class="card">
              <h2>
                <a href={routeHash({ page: "kind", plural: k.plural })}>{k.kind}</a>
              </h2>
              <p>{k.description || "No description."}</p>
              <p class="muted">
                {k.plural}.{k.group}/{k.version}
              </p>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
