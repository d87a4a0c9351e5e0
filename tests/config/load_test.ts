import assert from "node:assert/strict";
import { ConfigError, defaultConfig, loadConfig, parseConfig } from "../../src/config/mod.ts";

const root = new URL("../../", import.meta.url).pathname;

function problemsOf(text: string): string {
  try {
    parseConfig(text, "/etc/edge-agent/config.json");
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${e}`);
    return e.message;
  }
  assert.fail("expected the config to be rejected");
}

Deno.test("lua-collectd-monitor's sample config.json loads unchanged", async () => {
  const { config } = await loadConfig(`${root}config/lua-collectd-monitor.json`, {
    mode: () => Promise.resolve(0o600),
  });
  assert.equal(config.Host, "localhost:1883");
  assert.equal(config.QoS, 2);
  assert.equal(config.CommandTopic, "test-topic");
  assert.equal(config.Services.nginx?.commands.restart, "/bin/systemctl restart nginx 2>&1");
  assert.equal(config.Services.hello?.commands.exec, '/bin/echo "Hello World!"');
});

Deno.test("the built-in default is local-only and listens on 127.0.0.1:25826", () => {
  const c = defaultConfig("/srv/agent");
  assert.equal(c.Host, undefined);
  assert.deepEqual(c.Listen, [{ Host: "127.0.0.1", Port: 25826, SecurityLevel: "None" }]);
  assert.equal(c.RulesDir, "/srv/agent/rules");
  assert.equal(c.StateDir, "/srv/agent/state");
  assert.equal(c.LogDevice, "stdout");
  assert.equal(c.source, null);
});

Deno.test("invalid JSON is reported with its line and column", () => {
  const msg = problemsOf('{\n  "Host": "a",\n  "QoS": 2,\n}\n');
  assert.match(msg, /config\.json/);
  assert.match(msg, /line 4, column 1/);
});

Deno.test("a misspelled key is an error with its JSON path and a did-you-mean", () => {
  const msg = problemsOf('{"Listen": [{"Host": "::1", "SecurityLevl": "Sign"}]}');
  assert.match(msg, /Listen\[0\]\.SecurityLevl: unknown key \(did you mean "SecurityLevel"\?\)/);
});
