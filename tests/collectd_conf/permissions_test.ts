import assert from "node:assert/strict";
import { derivePermissions } from "../../src/permissions/mod.ts";
import { parseConfig } from "../../src/config/mod.ts";

const isExecutable = (p: string) => p === "/usr/bin/systemctl";

function readGrants(collectd: Record<string, unknown>): string[] {
  const { config } = parseConfig(
    JSON.stringify({
      Services: {
        collectd: { commands: { restart: "/usr/bin/systemctl restart collectd" }, ...collectd },
      },
    }),
    "/etc/edge-agent/config.json",
  );
  const p = derivePermissions(config, { self: "/usr/bin/edge-agent", isExecutable });
  return p.read.filter((g) => /IncludeDirs/.test(g.reason)).map((g) => g.value);
}

Deno.test("the derived flags let the collectd.conf policy read the allowed include folders, and only those", () => {
  assert.deepEqual(readGrants({ ConfigPath: "/etc/collectd/collectd.conf" }), [
    "/etc/collectd",
    "/etc/collectd/collectd.conf.d",
    "/etc/collectd/collectd.d",
  ]);
  assert.deepEqual(readGrants({ IncludeDirs: ["/srv/collectd-snippets"] }), [
    "/srv/collectd-snippets",
  ]);
  assert.deepEqual(readGrants({ IncludeDirs: [] }), [], "IncludeDirs [] grants nothing");
  // No ConfigPath: every usual location's folders, but never all of /etc.
  const searched = readGrants({});
  assert.ok(searched.includes("/etc/collectd.d") && searched.includes("/opt/collectd/etc"));
  assert.ok(!searched.includes("/etc"));
});
