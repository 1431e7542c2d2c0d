/**
 * The app's frame: the session (sign-in when there is none; any 401 brings it back), the header with the user and
 * sign-out, the navigation, and the page of the URL's fragment in <main>.
 */
import type { JSX } from "preact";
import { useEffect, useMemo, useState } from "preact/hooks";
import { Api, type Catalog, type Session } from "./api.js";
import { CatalogPage } from "./catalog-page.js";
import { InstanceForm } from "./instance-form.js";
import { InstancePage } from "./instance-page.js";
import { KindPage } from "./kind-page.js";
import { ProviderPage } from "./provider-page.js";
import { parseRoute, type Route } from "./routes.js";
import { SignIn } from "./sign-in.js";
import { ErrorBox } from "./ui.js";

function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const on = (): void => {
      setRoute(parseRoute(location.hash));
      // A new page: focus <main>, so that keyboard and screen reader users start at the page's content.
      setTimeout(() => document.getElementById("main")?.focus(), 0);
    };
    window.addEventListener("hashchange", on);
    return () => {
      window.removeEventListener("hashchange", on);
    };
  }, []);
  return route;
}

export function App(): JSX.Element {
  // undefined: not known yet; null: signed out.
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  const api = useMemo(
    () =>
      new Api(() => {
        setSession(null);
      }),
    [],
  );
  const [namespace, setNamespace] = useState("");
  const [catalog, setCatalog] = useState<Catalog | undefined>(undefined);
  const [catalogError, setCatalogError] = useState<unknown>(undefined);
  const [startError, setStartError] = useState<unknown>(undefined);
  const route = useRoute();

  useEffect(() => {
    api.session().then(
      (s) => {
        setSession(s ?? null);
        if (s) setNamespace(s.namespace);
      },
      (err: unknown) => {
        setStartError(err);
        setSession(null);
      },
    );
  }, [api]);

  useEffect(() => {
    setCatalog(undefined);
    setCatalogError(undefined);
    if (!session || !namespace) return;
    api.catalog(namespace).then(setCatalog, (err: unknown) => {
      setCatalogError(err);
    });
  }, [api, session, namespace]);

  const signOut = async (): Promise<void> => {
    try {
      await api.signOut();
    } finally {
      setSession(null);
      setCatalog(undefined);
    }
  };

  return (
    <>
      <header class="top">
        <span class="brand">KubePlus console</span>
        {session && (
          <span class="who">
            <span id="session-user">{session.user.username}</span>
            <span class="muted"> · namespace </span>
            <span id="session-namespace">{namespace}</span>
            <button
              id="sign-out"
              type="button"
              class="secondary small"
              onClick={() => void signOut()}
            >
              Sign out
            </button>
          </span>
        )}
      </header>
      {session && (
        <nav aria-label="Main">
          <ul>
            <li>
              <a
                id="nav-catalog"
                href="#/"
                aria-current={route.page === "catalog" ? "page" : undefined}
              >
                Catalog
              </a>
            </li>
            {catalog?.compositions && (
              <li>
                <a
                  id="nav-provider"
                  href="#/provider"
                  aria-current={route.page === "provider" ? "page" : undefined}
                >
                  Provider
                </a>
              </li>
            )}
          </ul>
        </nav>
      )}
      <main id="main" tabIndex={-1}>
        {session === undefined ? (
          <p role="status">Loading…</p>
        ) : session === null ? (
          <>
            <ErrorBox error={startError} />
            <SignIn
              api={api}
              onSignedIn={(s) => {
                setSession(s);
                setNamespace(s.namespace);
              }}
            />
          </>
        ) : (
          <Page
            api={api}
            route={route}
            namespace={namespace}
            catalog={catalog}
            catalogError={catalogError}
            onNamespace={setNamespace}
          />
        )}
      </main>
    </>
  );
}

function Page(props: {
  readonly api: Api;
  readonly route: Route;
  readonly namespace: string;
  readonly catalog: Catalog | undefined;
  readonly catalogError: unknown;
  readonly onNamespace: (ns: string) => void;
}): JSX.Element {
  const { api, route, namespace, catalog } = props;
  if (route.page === "catalog")
    return (
      <CatalogPage
        key={namespace}
        namespace={namespace}
        catalog={catalog}
        error={props.catalogError}
        onNamespace={props.onNamespace}
      />
    );
  if (route.page === "provider") return <ProviderPage api={api} namespace={namespace} />;
  if (!catalog)
    return props.catalogError !== undefined ? (
      <ErrorBox error={props.catalogError} />
    ) : (
      <p role="status">Loading the catalog…</p>
    );
  const kind = catalog.kinds.find((k) => k.plural === route.plural);
  if (!kind)
    return (
      <section aria-labelledby="unknown-title">
        <h1 id="unknown-title">Unknown kind</h1>
        <p id="unknown-kind">
          No kind {route.plural} in your catalog for namespace {namespace}.{" "}
          <a href="#/">Back to the catalog</a>
        </p>
      </section>
    );
  switch (route.page) {
    case "kind":
      return (
        <KindPage key={`${namespace}/${kind.plural}`} api={api} kind={kind} namespace={namespace} />
      );
    case "new":
      return (
        <InstanceForm
          key={`${namespace}/${kind.plural}/+new`}
          api={api}
          kind={kind}
          namespace={namespace}
        />
      );
    case "edit":
      return (
        <InstanceForm
          key={`${namespace}/${kind.plural}/${route.name}/edit`}
          api={api}
          kind={kind}
          namespace={namespace}
          name={route.name}
        />
      );
    case "instance":
      return (
        <InstancePage
          key={`${namespace}/${kind.plural}/${route.name}`}
          api={api}
          kind={kind}
          namespace={namespace}
          name={route.name}
        />
      );
  }
}
