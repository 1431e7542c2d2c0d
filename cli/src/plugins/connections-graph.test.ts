import { describe, expect, it } from "vitest";
import { connectionsFrom, toDot, type GraphObject } from "./connections-graph.js";

const release = "wordpressservice-wp1";
const helm = { "meta.helm.sh/release-name": release };
const instance: GraphObject = {
  kind: "WordpressService",
  metadata: { name: "wp1", namespace: "kp" },
};
const objects: GraphObject[] = [
  { kind: "Deployment", metadata: { name: "wp", namespace: "wp1", annotations: helm } },
  {
    kind: "ReplicaSet",
    metadata: {
      name: "wp-7d",
      namespace: "wp1",
      ownerReferences: [{ kind: "Deployment", name: "wp" }],
    },
  },
  {
    kind: "Pod",
    metadata: {
      name: "wp-7d-x",
      namespace: "wp1",
      labels: { app: "wp" },
      ownerReferences: [{ kind: "ReplicaSet", name: "wp-7d" }],
    },
    spec: {
      serviceAccountName: "wp-sa",
      volumes: [
        { configMap: { name: "wp-config" } },
        { persistentVolumeClaim: { claimName: "wp-data" } },
      ],
      containers: [
        {
          name: "wordpress",
          env: [{ name: "DB_PASSWORD", valueFrom: { secretKeyRef: { name: "db" } } }],
        },
      ],
    },
  },
  {
    kind: "Service",
    metadata: { name: "wp", namespace: "wp1", annotations: helm },
    spec: { selector: { app: "wp" } },
  },
  { kind: "ConfigMap", metadata: { name: "wp-config", namespace: "wp1", annotations: helm } },
  { kind: "Secret", metadata: { name: "db", namespace: "wp1", annotations: helm } },
  { kind: "ServiceAccount", metadata: { name: "wp-sa", namespace: "wp1", annotations: helm } },
  {
    kind: "PersistentVolumeClaim",
    metadata: { name: "wp-data", namespace: "wp1", annotations: helm },
  },
  { kind: "ConfigMap", metadata: { name: "unrelated", namespace: "wp1" } },
];

describe("connectionsFrom", () => {
  const connections = connectionsFrom(instance, release, objects);
  const rel = (kind: string, name: string, peerKind: string, peerName: string) =>
    connections.find(
      (c) =>
        c.Kind === kind && c.Name === name && c.PeerKind === peerKind && c.PeerName === peerName,
    );

  it("starts at the instance, reaching the release's objects through the release annotation", () => {
    expect(rel("WordpressService", "wp1", "Deployment", "wp")).toEqual({
      Level: 0,
      Kind: "WordpressService",
      Name: "wp1",
      Namespace: "kp",
      PeerKind: "Deployment",
      PeerName: "wp",
      PeerNamespace: "wp1",
      RelationType: "annotation",
      RelationDetails: `meta.helm.sh/release-name: ${release}`,
    });
  });

  it("follows owner references, label selectors, spec references and environment variables, by level", () => {
    expect(rel("Deployment", "wp", "ReplicaSet", "wp-7d")).toMatchObject({
      Level: 1,
      RelationType: "owner reference",
    });
    expect(rel("ReplicaSet", "wp-7d", "Pod", "wp-7d-x")).toMatchObject({
      Level: 2,
      RelationType: "owner reference",
    });
    expect(rel("Service", "wp", "Pod", "wp-7d-x")).toMatchObject({
      RelationType: "label",
      RelationDetails: "app=wp",
    });
    expect(
      connections.find(
        (c) => [c.Name, c.PeerName].includes("wp-config") && c.RelationType === "specproperty",
      ),
    ).toMatchObject({
      RelationDetails: "spec.volumes.configMap",
    });
    expect(
      connections.find(
        (c) => [c.Name, c.PeerName].includes("db") && c.RelationType === "envvariable",
      ),
    ).toMatchObject({
      RelationDetails: "wordpress: env DB_PASSWORD",
    });
    expect(connections.some((c) => c.PeerName === "unrelated" || c.Name === "unrelated")).toBe(
      false,
    );
  });

  it("leaves out what -i names, and draws pods light cyan in DOT", () => {
    const without = connectionsFrom(instance, release, objects, new Set(["Service:wp"]));
    expect(without.some((c) => c.Kind === "Service" || c.PeerKind === "Service")).toBe(false);
    const dot = toDot(connections);
    expect(dot).toContain('"Pod wp-7d-x" [shape=box, style=filled, fillcolor=lightcyan];');
    expect(dot).toContain(
      '"Service wp" -> "Pod wp-7d-x" [color=darkgreen, label="label (app=wp)"];',
    );
  });
});
