import assert from "node:assert/strict";
import { parseConfig } from "../../src/config/mod.ts";
import {
  derivePermissions,
  describeMissing,
  grantsHold,
  missingGrants,
  PackagedPermissionsSchema,
  readPackagedPermissions,
  reloadError,
} from "../../src/permissions/mod.ts";

const isExecutable = (p: string) => ["/bin/echo", "/bin/true"].includes(p);
const derive = (json: unknown) =>
  derivePermissions(parseConfig(JSON.stringify(json), "/etc/edge-agent/config.json").config, {
    self: "/usr/lib/edge-agent/deno",
    isExecutable,
  });

Deno.test("missingGrants() lists what a new config needs beyond the flags a package was built with, by config key", () => {
  const built = derive({
    StateDir: "/var/lib/edge-agent",
    Services: { a: { commands: { x: "/bin/echo" } } },
  });
  const next = derive({
    StateDir: "/var/lib/edge-agent",
    Services: { a: { commands: { x: "/bin/echo" } }, b: { commands: { y: "/bin/true" } } },
    Listen: [{ Host: "127.0.0.1", Port: 25900 }],
  });
  const missing = missingGrants(next, grantsHold(built));
  assert.deepEqual(missing.map((m) => `${m.kind}=${m.value}`), [
    "read=/bin/true",
    "net=127.0.0.1:25900",
    "run=/bin/true",
  ]);
  assert.match(
    describeMissing(missing),
    /Services\.b\.commands\.y: recovery command: --allow-run=\/bin\/true/,
  );
  assert.deepEqual(missingGrants(built, grantsHold(built)), []);
});

Deno.test("grantsHold() treats a granted folder as granting what is under it, like Deno", () => {
  const built = derive({ StateDir: "/var/lib/edge-agent" });
  const holds = grantsHold(built);
  assert.equal(holds("write", "/var/lib/edge-agent/maintenance.json"), true);
  assert.equal(holds("write", "/var/lib/edge-agent-other"), false);
  assert.equal(holds("run", "/bin/echo"), false);
});

Deno.test("readPackagedPermissions() reads the package's file and refuses a broken one, naming it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/permissions.json`;
    const daemon = derive({});
    const good = { config: "/etc/edge-agent/config.json", self: "/x", daemon, operator: daemon };
    assert.ok(PackagedPermissionsSchema.safeParse(good).success);
    await Deno.writeTextFile(file, JSON.stringify(good));
    assert.equal((await readPackagedPermissions(file))?.permissions.self, "/x");
    await Deno.writeTextFile(file, JSON.stringify({ ...good, daemon: {} }));
    await assert.rejects(
      () => readPackagedPermissions(file),
      new RegExp(`Invalid permissions file ${file}`),
    );
    assert.equal(await readPackagedPermissions(""), null);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("reloadError() says how to apply a config that needs more permissions, and leaves other errors as they are", () => {
  const denied = new Error("cannot bind 0.0.0.0:25827", {
    cause: new Deno.errors.NotCapable('Requires net access to "0.0.0.0:25827"'),
  });
  const said = reloadError(denied) as Error;
  assert.match(
    said.message,
    /^cannot bind 0\.0\.0\.0:25827\. The agent runs with the least permissions/,
  );
  assert.match(said.message, /a restart of the agent applies it|rebuild the package/);
  assert.equal(said.cause, denied);
  const other = new Error("bad rule");
  assert.equal(reloadError(other), other);
});
