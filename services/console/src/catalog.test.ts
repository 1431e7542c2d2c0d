import { describe, expect, it } from "vitest";
import {
  catalogKinds,
  kindSchema,
  verbsOn,
  type DiscoveredResource,
  type PolicyRule,
} from "./catalog.js";

const G = "platformapi.kubeplus";
const resources: DiscoveredResource[] = [
  {
    name: "helloworldservices",
    kind: "HelloWorldService",
    namespaced: true,
    verbs: ["get", "list", "create"],
  },
  {
    name: "helloworldservices/status",
    kind: "HelloWorldService",
    namespaced: true,
    verbs: ["get", "patch"],
  },
  { name: "wordpressservices", kind: "WordpressService", namespaced: true, verbs: ["get", "list"] },
];
const specSchema = { type: "object", properties: { greeting: { type: "string" } } };
const openapi = {
  components: {
    schemas: {
      "kubeplus.platformapi.v1alpha1.HelloWorldService": {
        description: "Instances of the 'hello-world' chart",
        properties: { spec: specSchema, status: { type: "object" } },
        "x-kubernetes-group-version-kind": [
          { group: G, version: "v1alpha1", kind: "HelloWorldService" },
        ],
      },
      "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta": { type: "object" },
    },
  },
};

describe("verbsOn", () => {
  it("unions the verbs of every rule that names the group and resource, or a wildcard", () => {
    const rules: PolicyRule[] = [
      { apiGroups: [G], resources: ["helloworldservices"], verbs: ["get", "list"] },
      { apiGroups: ["*"], resources: ["*"], verbs: ["watch"] },
      { apiGroups: [G], resources: ["wordpressservices"], verbs: ["*"] },
      { apiGroups: ["apps"], resources: ["helloworldservices"], verbs: ["delete"] },
    ];
    expect(verbsOn(rules, G, "helloworldservices")).toEqual(["get", "list", "watch"]);
    expect(verbsOn(rules, G, "wordpressservices")).toContain("deletecollection");
    expect(verbsOn(rules, G, "others")).toEqual(["watch"]);
  });

  it("does not count rules bounded to some names", () => {
    expect(
      verbsOn(
        [
          {
            apiGroups: [G],
            resources: ["helloworldservices"],
            verbs: ["list"],
            resourceNames: ["a"],
          },
        ],
        G,
        "helloworldservices",
      ),
    ).toEqual([]);
  });
});

describe("catalogKinds", () => {
  it("lists the kinds the user may list, with its verbs, the CRD's description and the spec's schema", () => {
    const rules: PolicyRule[] = [
      {
        apiGroups: [G],
        resources: ["helloworldservices"],
        verbs: ["get", "list", "watch", "create", "delete"],
      },
    ];
    expect(catalogKinds({ group: G, version: "v1alpha1", resources, rules, openapi })).toEqual([
      {
        group: G,
        version: "v1alpha1",
        kind: "HelloWorldService",
        plural: "helloworldservices",
        description: "Instances of the 'hello-world' chart",
        verbs: ["get", "list", "watch", "create", "delete"],
        schema: specSchema,
      },
    ]);
  });

  it("leaves out what the user may not list, and subresources", () => {
    const rules: PolicyRule[] = [
      { apiGroups: [G], resources: ["helloworldservices/status"], verbs: ["list"] },
      { apiGroups: [G], resources: ["wordpressservices"], verbs: ["get"] },
    ];
    expect(catalogKinds({ group: G, version: "v1alpha1", resources, rules, openapi })).toEqual([]);
  });

  it("keeps a kind whose schema is not published, with an open object", () => {
    const rules: PolicyRule[] = [
      { apiGroups: [G], resources: ["wordpressservices"], verbs: ["list"] },
    ];
    expect(
      catalogKinds({ group: G, version: "v1alpha1", resources, rules, openapi })[0],
    ).toMatchObject({
      kind: "WordpressService",
      description: "",
      schema: { type: "object" },
    });
  });
});

describe("kindSchema", () => {
  it("finds a schema by its group-version-kind, not by its name", () => {
    expect(kindSchema(openapi, G, "v1alpha1", "HelloWorldService")?.description).toContain(
      "hello-world",
    );
    expect(kindSchema(openapi, G, "v1", "HelloWorldService")).toBeUndefined();
    expect(kindSchema({}, G, "v1alpha1", "HelloWorldService")).toBeUndefined();
  });
});
