import { describe, expect, it } from "vitest";
import { sharedChart as shared } from "@kubeplus/testing";
import { inspectChartArchive } from "./archive.js";
import { buildInstanceCrd, buildSampleManifest } from "./instance-crd.js";
import {
  chartDefaultIn,
  convertValuesSchema,
  inferSchema,
  specSchemaForChart,
} from "./values-schema.js";

describe("inferSchema (values.yaml)", () => {
  it("types scalars, nests objects, types lists, keeps nulls optional and empty maps open", () => {
    const schema = inferSchema({
      greeting: "Hello World!",
      replicas: 1,
      ratio: 0.5,
      enabled: true,
      image: { repository: "nginx", tag: null },
      ports: [80, 443],
      env: [
        { name: "A", value: "1" },
        { name: "B", secret: "s" },
      ],
      extra: {},
      list: [],
    });
    const p = schema.properties as Record<string, Record<string, unknown>>;
    expect(p.greeting).toEqual({ type: "string", description: 'Chart default: "Hello World!"' });
    expect(p.replicas).toMatchObject({ type: "integer" });
    expect(p.ratio).toMatchObject({ type: "number" });
    expect(p.enabled).toMatchObject({ type: "boolean" });
    expect(p.image).toMatchObject({
      type: "object",
      properties: {
        repository: { type: "string" },
        tag: { "x-kubernetes-preserve-unknown-fields": true, nullable: true },
      },
    });
    expect(p.ports).toMatchObject({ type: "array", items: { type: "integer" } });
    expect(p.env).toMatchObject({
      type: "array",
      items: {
        type: "object",
        properties: {
          name: { type: "string" },
          value: { type: "string" },
          secret: { type: "string" },
        },
      },
    });
    expect(p.extra).toEqual({ type: "object", "x-kubernetes-preserve-unknown-fields": true });
    expect(p.list).toMatchObject({
      type: "array",
      items: { "x-kubernetes-preserve-unknown-fields": true },
    });
    // Defaults are documented, never persisted into instances (see describeDefault).
    expect(JSON.stringify(schema)).not.toContain('"default"');
  });
});

describe("convertValuesSchema (values.schema.json)", () => {
  it("inlines $ref, maps type arrays, drops what Kubernetes cannot hold, and says so", () => {
    const { schema, notes } = convertValuesSchema({
      $schema: "http://json-schema.org/draft-07/schema#",
      definitions: { port: { type: "integer", minimum: 1, maximum: 65535 } },
      type: "object",
      required: ["service"],
      properties: {
        service: {
          type: "object",
          properties: { port: { $ref: "#/definitions/port" } },
          additionalProperties: false,
        },
        nodeName: { type: ["string", "null"] },
        memory: { type: ["integer", "string"] },
        mode: { const: "fast" },
        labels: { type: "object", additionalProperties: { type: "string" } },
        tls: { anyOf: [{ type: "boolean" }, { type: "object" }] },
        url: { type: "string", format: "iri-reference", default: "https://example.com" },
        self: { $ref: "https://example.com/schema.json" },
      },
    });
    const p = schema.properties as Record<string, Record<string, unknown>>;
    expect(schema.required).toBeUndefined();
    expect(p.service).toEqual({
      type: "object",
      properties: { port: { type: "integer", minimum: 1, maximum: 65535 } },
    });
    expect(p.nodeName).toEqual({ type: "string", nullable: true });
    expect(p.memory).toEqual({ "x-kubernetes-int-or-string": true });
    expect(p.mode).toEqual({ enum: ["fast"], type: "string" });
    expect(p.labels).toEqual({ type: "object", additionalProperties: { type: "string" } });
    expect(p.tls).toEqual({ "x-kubernetes-preserve-unknown-fields": true });
    expect(p.url).toEqual({ type: "string", description: 'Chart default: "https://example.com"' });
    expect(notes.map((n) => `${n.path}: ${n.note}`)).toEqual([
      "spec.tls: anyOf dropped (not structural); helm still validates it at render",
      "spec.url: format 'iri-reference' dropped",
      "spec.self: external $ref 'https://example.com/schema.json' cannot be inlined; the field accepts any value",
    ]);
  });

  it("stops at recursive $ref instead of looping", () => {
    const { notes } = convertValuesSchema({
      definitions: {
        node: { type: "object", properties: { child: { $ref: "#/definitions/node" } } },
      },
      $ref: "#/definitions/node",
    });
    expect(notes.some((n) => n.note.includes("nesting deeper than 8"))).toBe(true);
  });
});

describe("the generated CRD and sample manifest of real charts", () => {
  it("uses values.yaml for the WordPress chart and names the CRD <plural>.<group>", async () => {
    const chart = await inspectChartArchive(shared("wordpress-chart-0.0.4.tgz"), "wordpress-chart");
    const { crd, schemaSource } = buildInstanceCrd(
      {
        kind: "WordpressService",
        group: "platformapi.kubeplus",
        version: "v1alpha1",
        plural: "wordpressservices",
      },
      { values: chart.values, name: chart.metadata.name },
      { name: "wordpress-service-composition", namespace: "default" },
    );
    expect(schemaSource).toBe("values.yaml");
    expect(crd.metadata.name).toBe("wordpressservices.platformapi.kubeplus");
    expect(crd.metadata.labels).toMatchObject({ "registered-by": "kubeplus" });
    const version = crd.spec.versions[0]!;
    expect(version.name).toBe("v1alpha1");
    expect(version.additionalPrinterColumns.map((c) => c.name)).toEqual([
      "Ready",
      "Reason",
      "Chart",
      "Age",
    ]);
    const spec = (
      version.schema.openAPIV3Schema.properties as Record<string, Record<string, unknown>>
    ).spec!;
    expect(spec.properties).toEqual({
      resourceName: { type: "string", description: 'Chart default: "wp-stack1"' },
    });
  });

  it("accepts the instance field that names the node for node isolation, even when values.yaml lacks it", () => {
    const { crd } = buildInstanceCrd(
      {
        kind: "WordpressService",
        group: "platformapi.kubeplus",
        version: "v1alpha1",
        plural: "wordpressservices",
      },
      { values: { resourceName: "wp" }, name: "wordpress-chart" },
      { name: "c", namespace: "kp", nodeSelector: "values.nodeName" },
    );
    const spec = (
      crd.spec.versions[0]!.schema.openAPIV3Schema.properties as Record<
        string,
        Record<string, unknown>
      >
    ).spec!;
    expect(Object.keys(spec.properties as object)).toEqual(["resourceName", "nodeName"]);
    expect((spec.properties as Record<string, unknown>).nodeName).toMatchObject({ type: "string" });
  });

  it("keeps the requested version (the original always used v1alpha1)", () => {
    const { crd } = buildInstanceCrd(
      { kind: "Hello", group: "apps.example.com", version: "v2", plural: "hellos" },
      { values: {}, name: "hello" },
      { name: "c", namespace: "kp" },
    );
    expect(crd.spec.versions.map((v) => v.name)).toEqual(["v2"]);
  });

  it("writes a sample manifest a user can edit and create, with type and default per field", async () => {
    const chart = await inspectChartArchive(
      shared("hello-world-chart-0.0.3.tgz"),
      "hello-world-chart",
    );
    const sample = buildSampleManifest(
      {
        kind: "HelloWorldService",
        group: "platformapi.kubeplus",
        version: "v1alpha1",
        plural: "helloworldservices",
      },
      chart,
    );
    expect(sample).toBe(
      [
        "apiVersion: platformapi.kubeplus/v1alpha1",
        "kind: HelloWorldService",
        "metadata:",
        "  name: sample-helloworldservice",
        "  # annotations:",
        '  #   kubeplus.dev/pin-chart: "<chart version>"  # stay on that chart version during the provider\'s chart upgrades',
        "spec:",
        '  # greeting (string): Chart default: "Hello World!"',
        "  greeting: Hello World!",
        "  # replicas (integer): Chart default: 1",
        "  replicas: 1",
        "",
      ].join("\n"),
    );
  });

  it("prefers a chart's values.schema.json", () => {
    const { source, schema } = specSchemaForChart({
      values: { a: 1 },
      valuesSchema: { type: "object", properties: { a: { type: "integer", maximum: 3 } } },
    });
    expect(source).toBe("values.schema.json");
    expect(schema).toEqual({ type: "object", properties: { a: { type: "integer", maximum: 3 } } });
  });
});

describe("chartDefaultIn", () => {
  it("reads back the defaults written into descriptions, and refuses truncated ones", () => {
    expect(chartDefaultIn('Chart default: "Hello World!"')).toEqual({
      value: "Hello World!",
      description: "",
    });
    expect(chartDefaultIn("Replica count (chart default: 3)")).toEqual({
      value: 3,
      description: "Replica count",
    });
    expect(chartDefaultIn("Chart default: a: 1\nb: [x]")).toEqual({
      value: { a: 1, b: ["x"] },
      description: "",
    });
    expect(chartDefaultIn("Chart default: [1, 2, ...")).toBeUndefined();
    expect(chartDefaultIn("just a description")).toBeUndefined();
  });

  it("opens the kind's description with the chart's own, for the console's catalog and kubectl explain", () => {
    const resource = {
      kind: "Shop",
      group: "platformapi.kubeplus",
      version: "v1alpha1",
      plural: "shops",
    };
    const owner = { name: "shop-composition", namespace: "kubeplus" };
    const described = buildInstanceCrd(
      resource,
      { values: {}, name: "shop", description: "An online shop with its own database" },
      owner,
    ).crd.spec.versions[0]!.schema.openAPIV3Schema.description;
    expect(described).toBe(
      "An online shop with its own database. Instances of the 'shop' chart, one isolated tenant each (ResourceComposition kubeplus/shop-composition).",
    );
    const plain = buildInstanceCrd(resource, { values: {}, name: "shop" }, owner).crd.spec
      .versions[0]!.schema.openAPIV3Schema.description;
    expect(plain).toBe(
      "Instances of the 'shop' chart, one isolated tenant each (ResourceComposition kubeplus/shop-composition).",
    );
  });
});
