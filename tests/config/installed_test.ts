import assert from "node:assert/strict";
import { ConfigError, installedConfig } from "../../src/config/mod.ts";

Deno.test("installedConfig() maps a relative or absent StateDir and RulesDir to their FHS locations, saying so", () => {
  const lua = JSON.stringify({
    Host: "localhost:1883",
    StateDir: "state",
    LocalMonitorConfigDir: "monitor",
  });
  const out = installedConfig(lua, "/src/fleet.json");
  const installed = JSON.parse(out.text);
  assert.equal(installed.StateDir, "/var/lib/edge-agent");
  assert.equal(installed.LocalMonitorConfigDir, "/etc/edge-agent/rules"); // the operator's own key
  assert.equal(installed.RulesDir, undefined);
  assert.match(
    out.notes.join("\n"),
    /StateDir "state" is relative: the package uses \/var\/lib\/edge-agent/,
  );
  assert.match(out.notes.join("\n"), /LocalMonitorConfigDir "monitor" is relative/);

  const defaults = installedConfig("{}", "/src/fleet.json");
  assert.deepEqual(JSON.parse(defaults.text), {
    StateDir: "/var/lib/edge-agent",
    RulesDir: "/etc/edge-agent/rules",
  });
});

Deno.test("installedConfig() installs the operator's own bytes when nothing has to change", () => {
  const text =
    '{\n  "StateDir": "/var/lib/edge-agent",\n  "RulesDir": "/etc/edge-agent/rules"\n}\n';
  assert.deepEqual(installedConfig(text, "/src/fleet.json"), { text, notes: [] });
});

Deno.test("installedConfig() refuses any other relative path, naming each key", () => {
  const text = JSON.stringify({
    StateDir: "/var/lib/edge-agent",
    RulesDir: "/etc/edge-agent/rules",
    Host: "b",
    Secure: true,
    CAFile: "ca.pem",
    Listen: [{ Host: "0.0.0.0", SecurityLevel: "Sign", AuthFile: "auth" }],
    Services: { collectd: { ConfigPath: "collectd.conf" } },
  });
  assert.throws(
    () => installedConfig(text, "/src/fleet.json"),
    (e) =>
      e instanceof ConfigError &&
      e.problems.map((p) => p.path).join(",") ===
        "Listen[0].AuthFile,CAFile,Services.collectd.ConfigPath" &&
      /"ca\.pem" is relative: in a package it would resolve under \/etc\/edge-agent/.test(
        e.message,
      ),
  );
});

Deno.test("installedConfig() reports an invalid config against the operator's file", () => {
  assert.throws(
    () => installedConfig('{"Port": 1}', "/src/fleet.json"),
    /Invalid config \/src\/fleet\.json/,
  );
});
