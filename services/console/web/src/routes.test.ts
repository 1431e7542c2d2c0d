import { describe, expect, it } from "vitest";
import { parseRoute, routeHash, type Route } from "./routes.js";

describe("routes", () => {
  it.each<[string, Route]>([
    ["", { page: "catalog" }],
    ["#/", { page: "catalog" }],
    ["#/provider", { page: "provider" }],
    ["#/kinds/helloworldservices", { page: "kind", plural: "helloworldservices" }],
    ["#/kinds/helloworldservices/+new", { page: "new", plural: "helloworldservices" }],
    [
      "#/kinds/helloworldservices/shop",
      { page: "instance", plural: "helloworldservices", name: "shop" },
    ],
    [
      "#/kinds/helloworldservices/shop/edit",
      { page: "edit", plural: "helloworldservices", name: "shop" },
    ],
    ["#/kinds/a/b/c/d", { page: "catalog" }],
    ["#/elsewhere", { page: "catalog" }],
  ])("reads %j", (hash, route) => {
    expect(parseRoute(hash)).toEqual(route);
  });

  it("encodes a hostile name so that it cannot change the route's shape", () => {
    const route: Route = { page: "instance", plural: "x", name: "a/edit<script>" };
    const hash = routeHash(route);
    expect(hash).toBe("#/kinds/x/a%2Fedit%3Cscript%3E");
    expect(parseRoute(hash)).toEqual(route);
  });
});
