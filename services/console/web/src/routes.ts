/**
 * The app's pages, addressed by the URL's fragment (`#/kinds/<plural>/<name>`), so that the server serves one
 * index.html and the back button works. Pure.
 */

export type Route =
  | { readonly page: "catalog" }
  | { readonly page: "kind"; readonly plural: string }
  | { readonly page: "new"; readonly plural: string }
  | { readonly page: "instance"; readonly plural: string; readonly name: string }
  | { readonly page: "edit"; readonly plural: string; readonly name: string }
  | { readonly page: "provider" };

/** The route of a location hash; anything unknown is the catalog. */
export function parseRoute(hash: string): Route {
  const parts = hash
    .replace(/^#\/?/, "")
    .split("/")
    .filter((p) => p !== "")
    .map((p) => {
      try {
        return decodeURIComponent(p);
      } catch {
        return p;
      }
    });
  const [first, plural, name, action] = parts;
  if (first === "provider" && parts.length === 1) return { page: "provider" };
  if (first !== "kinds" || !plural) return { page: "catalog" };
  if (name === undefined) return { page: "kind", plural };
  if (parts.length === 3 && name === "+new") return { page: "new", plural };
  if (action === undefined) return { page: "instance", plural, name };
  if (action === "edit" && parts.length === 4) return { page: "edit", plural, name };
  return { page: "catalog" };
}

/** The hash of a route (names are encoded: an instance name never changes the route's shape). */
export function routeHash(route: Route): string {
  const e = encodeURIComponent;
  switch (route.page) {
    case "catalog":
      return "#/";
    case "provider":
      return "#/provider";
    case "kind":
      return `#/kinds/${e(route.plural)}`;
    case "new":
      return `#/kinds/${e(route.plural)}/+new`;
    case "instance":
      return `#/kinds/${e(route.plural)}/${e(route.name)}`;
    case "edit":
      return `#/kinds/${e(route.plural)}/${e(route.name)}/edit`;
  }
}
