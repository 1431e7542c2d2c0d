import { describe, expect, it } from "vitest";
import { natsPermissions, natsPermissionTable } from "./nats-permissions.js";
import { NatsUsers, Subjects } from "./subjects.js";

const all = (p: ReturnType<typeof natsPermissions>): string[] => [
  ...("allow" in p.publish ? p.publish.allow : []),
  ...p.subscribe.allow,
];

describe("natsPermissions", () => {
  it("lets only the kubeconfig-generator serve generate, in its queue group, and only the provider ask", () => {
    const generate = Subjects.KubeconfigGenerate.subject;
    for (const user of NatsUsers) {
      const p = natsPermissions(user);
      const subscribes = p.subscribe.allow.filter((s) => s.startsWith(generate));
      const publishes = "allow" in p.publish && p.publish.allow.includes(generate);
      expect(subscribes).toEqual(
        user === "kubeconfig-generator" ? [`${generate} kubeconfig-generator`] : [],
      );
      expect(publishes).toBe(user === "provider");
    }
  });

  it("lets only the helmer serve renders and only crd-hook request them", () => {
    const render = Subjects.HelmerRender.subject;
    const servers = NatsUsers.filter((u) =>
      natsPermissions(u).subscribe.allow.some((s) => s.startsWith(render)),
    );
    const callers = NatsUsers.filter((u) => {
      const p = natsPermissions(u).publish;
      return "allow" in p && p.allow.includes(render);
    });
    expect(servers).toEqual(["helmer"]);
    expect(callers).toEqual(["crd-hook"]);
  });

  it("lets each event be published by its owner only", () => {
    for (const def of Object.values(Subjects)) {
      if (def.pattern !== "event") continue;
      const publishers = NatsUsers.filter((u) => {
        const p = natsPermissions(u).publish;
        return "allow" in p && p.allow.includes(def.subject);
      });
      expect(publishers, def.subject).toEqual([def.publishedBy]);
    }
  });

  it("gives every identity its own inbox and no wildcard over the system", () => {
    for (const user of NatsUsers) {
      const p = natsPermissions(user);
      expect(p.subscribe.allow).toContain(`_INBOX.${user}.>`);
      for (const subject of all(p)) {
        expect(subject).not.toMatch(/^(>|\*|_INBOX\.>|kubeplus\.>|kubeplus\.v1\.>)/);
        if (subject.startsWith("_INBOX.")) expect(subject).toBe(`_INBOX.${user}.>`);
      }
    }
  });

  it("lets the provider's tools read every event with one wildcard, and nothing wider", () => {
    for (const def of Object.values(Subjects))
      if (def.pattern === "event") expect(def.subject.startsWith("kubeplus.v1.evt.")).toBe(true);
    expect(natsPermissions("provider").subscribe.allow).toEqual([
      "_INBOX.provider.>",
      "kubeplus.v1.evt.>",
    ]);
    expect(natsPermissions("helmer").subscribe.allow).not.toContain("kubeplus.v1.evt.>");
  });

  it("denies all publishing to an identity that only replies, and allows replies to those that serve", () => {
    expect(natsPermissions("kubeconfig-generator")).toMatchObject({
      publish: { deny: [">"] },
      allow_responses: true,
    });
    expect(natsPermissions("crd-hook").allow_responses).toBeUndefined();
    expect(Object.keys(natsPermissionTable())).toEqual([...NatsUsers]);
  });
});
