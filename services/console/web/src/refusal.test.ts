import { describe, expect, it } from "vitest";
import { parseRefusal, placeProblems } from "./refusal.js";

/** What the apiserver answers when crd-hook refuses an instance (a Status with the webhook's message). */
const webhookStatus = {
  kind: "Status",
  apiVersion: "v1",
  status: "Failure",
  message:
    'admission webhook "validate.kubeplus" denied the request: HelloWorldService team-a/x was refused (3 problems):\n' +
    "  - spec.replicas: must be at most 5\n" +
    "  - spec.db.users[2].name: is taken\n" +
    "  - metadata.name: x is too long for a namespace name",
  reason: "Forbidden",
  code: 403,
};

/** What the apiserver answers when the CRD's schema refuses a value. */
const schemaStatus = {
  kind: "Status",
  status: "Failure",
  message:
    'HelloWorldService.platformapi.kubeplus "x" is invalid: spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string"',
  reason: "Invalid",
  details: {
    name: "x",
    kind: "HelloWorldService",
    causes: [
      {
        reason: "FieldValueTypeInvalid",
        message: 'Invalid value: "string": spec.replicas in body must be of type integer: "string"',
        field: "spec.replicas",
      },
      { reason: "FieldValueRequired", message: "Required value", field: "spec.greeting" },
    ],
  },
  code: 422,
};

describe("parseRefusal", () => {
  it("reads the webhook's problem lines into fields and messages", () => {
    const r = parseRefusal(webhookStatus);
    expect(r.summary).toBe(
      'admission webhook "validate.kubeplus" denied the request: HelloWorldService team-a/x was refused (3 problems):',
    );
    expect(r.problems).toEqual([
      { field: "spec.replicas", message: "must be at most 5" },
      { field: "spec.db.users[2].name", message: "is taken" },
      { field: "metadata.name", message: "x is too long for a namespace name" },
    ]);
  });

  it("reads details.causes[].field, and keeps only the head of the message they repeat", () => {
    const r = parseRefusal(schemaStatus);
    expect(r.summary).toBe('HelloWorldService.platformapi.kubeplus "x" is invalid');
    expect(r.problems.map((p) => p.field)).toEqual(["spec.replicas", "spec.greeting"]);
    expect(r.problems[0]?.message).toContain("must be of type integer");
    expect(r.problems[1]?.message).toBe("Required value");
  });

  it("joins a problem continued on a further indented line", () => {
    const r = parseRefusal({
      message: "refused (1 problem):\n  - spec.a: first part\n      second part",
    });
    expect(r.problems).toEqual([{ field: "spec.a", message: "first part second part" }]);
  });

  it("keeps a message without problem lines whole (the console's own {message})", () => {
    expect(parseRefusal({ message: "the session expired" })).toEqual({
      summary: "the session expired",
      problems: [],
    });
    expect(parseRefusal("not json")).toEqual({ summary: "", problems: [] });
  });
});

describe("placeProblems", () => {
  const formPaths = ["metadata.name", "spec.replicas", "spec.greeting", "spec.db", "spec.db.users"];

  it("puts each problem next to the field it names, and the summary at the top", () => {
    const placed = placeProblems(parseRefusal(webhookStatus), formPaths);
    expect(placed.byField.get("spec.replicas")).toEqual(["must be at most 5"]);
    expect(placed.byField.get("metadata.name")).toEqual(["x is too long for a namespace name"]);
    expect(placed.top).toEqual([expect.stringContaining("was refused (3 problems)")]);
  });

  it("puts a problem of a field the form does not show on the nearest enclosing one, naming the path", () => {
    const placed = placeProblems(parseRefusal(webhookStatus), formPaths);
    expect(placed.byField.get("spec.db.users")).toEqual(["spec.db.users[2].name: is taken"]);
  });

  it("puts a problem of no field the form shows at the top, with its path", () => {
    const placed = placeProblems(
      {
        summary: "",
        problems: [{ field: "status.x", message: "nope" }, { message: "license expired" }],
      },
      formPaths,
    );
    expect(placed.byField.size).toBe(0);
    expect(placed.top).toEqual(["status.x: nope", "license expired"]);
  });
});
