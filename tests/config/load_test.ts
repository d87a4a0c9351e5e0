import assert from "node:assert/strict";
import { ConfigError, defaultConfig, loadConfig, parseConfig } from "../../src/config/mod.ts";

const root = new URL("../../", import.meta.url).pathname;
const cases = `${root}tests/testdata/config`;
const mode600 = { mode: () => Promise.resolve(0o600) };

async function rejection(path: string): Promise<ConfigError> {
  try {
    await loadConfig(path, mode600);
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${e}`);
    return e;
  }
  assert.fail(`expected ${path} to be rejected`);
}

Deno.test("lua-collectd-monitor's sample config.json loads unchanged", async () => {
  const { config, warnings } = await loadConfig(
    `${root}config/lua-collectd-monitor.json`,
    mode600,
  );
  assert.deepEqual(warnings, []);
  assert.equal(config.Host, "localhost:1883");
  assert.equal(config.User, "test-user");
  assert.equal(config.Secure, false);
  assert.equal(config.CleanSession, false);
  assert.equal(config.ReconnectInterval, 5);
  assert.equal(config.QoS, 2);
  assert.equal(config.CommandTopic, "test-topic");
  assert.equal(config.CommandResultTopic, "test-result-topic");
  assert.deepEqual(Object.keys(config.Services), ["nginx", "hello"]);
});

Deno.test("the example configs in config/ all validate", async () => {
  for await (const e of Deno.readDir(`${root}config`)) {
    if (e.name.endsWith(".json")) await loadConfig(`${root}config/${e.name}`, mode600);
  }
});

Deno.test("the built-in default is local-only and listens on 127.0.0.1:25826", () => {
  const c = defaultConfig("/srv/agent");
  assert.equal(c.Host, undefined);
  assert.deepEqual(c.Listen, [{ Host: "127.0.0.1", Port: 25826, SecurityLevel: "None" }]);
  assert.equal(c.RulesDir, "/srv/agent/rules");
  assert.equal(c.StateDir, "/srv/agent/state");
  assert.equal(c.LogDevice, "stdout");
  assert.equal(c.LogLevel, "info");
  assert.equal(c.source, null);
});

for (const dir of [...Deno.readDirSync(cases)].map((e) => e.name).sort()) {
  Deno.test(`a broken config is rejected with a clear error: ${dir}`, async () => {
    const file = `${cases}/${dir}/config.json`;
    const expected = Deno.readTextFileSync(`${cases}/${dir}/expected.txt`).trim();
    const err = await rejection(file);
    assert.match(err.message, new RegExp(`^Invalid config ${file}:`), "names the file");
    assert.match(err.message, new RegExp(expected));
  });
}

Deno.test("a missing config file is an error that names the file", async () => {
  const err = await rejection("/nonexistent/edge-agent.json");
  assert.match(
    err.message,
    /\/nonexistent\/edge-agent\.json:\n.*cannot read the file: no such file/,
  );
});

Deno.test("a Password in a group/other-readable file gets a chmod 600 warning", async () => {
  const { warnings } = await loadConfig("/etc/edge-agent/config.json", {
    readTextFile: () => Promise.resolve('{"Host": "broker", "Password": "s3cret"}'),
    mode: () => Promise.resolve(0o100644),
  });
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /mode 644\): run chmod 600 \/etc\/edge-agent\/config\.json/);
  assert.doesNotMatch(warnings[0]!, /s3cret/);
});

Deno.test("a Password in a file only its owner can read gets no warning", async () => {
  const { warnings } = await loadConfig("/etc/edge-agent/config.json", {
    readTextFile: () => Promise.resolve('{"Host": "broker", "Password": "s3cret"}'),
    mode: () => Promise.resolve(0o100600),
  });
  assert.deepEqual(warnings, []);
});

Deno.test("relative paths are resolved against the config file's folder", () => {
  const { config } = parseConfig(
    '{"LocalMonitorConfigDir": "local/", "StateDir": "../var", "TypesDB": ["my.db"]}',
    "/etc/collectd/monitor/config.json",
  );
  assert.equal(config.RulesDir, "/etc/collectd/monitor/local");
  assert.equal(config.StateDir, "/etc/collectd/var");
  assert.deepEqual(config.TypesDB, ["/etc/collectd/monitor/my.db"]);
});

Deno.test("LogLevel and LogDevice accept lua-collectd-monitor's spellings", () => {
  const { config } = parseConfig(
    '{"LogLevel": "WARNING", "LogDevice": "console"}',
    "/x/config.json",
  );
  assert.equal(config.LogLevel, "warn");
  assert.equal(config.LogDevice, "stdout");
  const err = parseConfig('{"LogLevel": "err"}', "/x/config.json");
  assert.equal(err.config.LogLevel, "error");
});

Deno.test("a telemetry collectd Password in a group-readable file also gets the warning", async () => {
  const { warnings } = await loadConfig("/etc/edge-agent/config.json", {
    readTextFile: () =>
      Promise.resolve(JSON.stringify({
        Telemetry: {
          CollectdServers: [{
            Host: "10.0.0.1",
            SecurityLevel: "Sign",
            Username: "agent",
            Password: "pw",
          }],
        },
      })),
    mode: () => Promise.resolve(0o100640),
  });
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /chmod 600/);
});

Deno.test("config strings and keys have maximum lengths: 4096 per string, 128 per key, 253 for HostName", () => {
  const reject = (config: unknown, re: RegExp) =>
    assert.throws(() => parseConfig(JSON.stringify(config), "/etc/edge/config.json"), re);
  reject(
    { HostName: "h".repeat(50 * 1024 * 1024) },
    /HostName: line 1, column 13: string of 52428800 characters/,
  );
  reject({ HostName: "h".repeat(254) }, /HostName: .*253/);
  reject(
    { Services: { ["s".repeat(129)]: { commands: { a: "/bin/true" } } } },
    /key of 129 characters: longer than the maximum of 128/,
  );
  reject(
    { Services: { web: { commands: { a: { Argv: ["/bin/echo", "x".repeat(4097)] } } } } },
    /Services\.web\.commands\.a\.Argv\[1\]: line 1, .*string of 4097 characters/,
  );
  parseConfig(JSON.stringify({ HostName: "h".repeat(253), StateDir: "s".repeat(4096) }), "/c.json");
});

Deno.test("a key given twice is an error naming both lines, also deep inside", () => {
  const text = '{\n  "Listen": [{ "Host": "a", "Port": 1, "Port": 2 }]\n}';
  assert.throws(
    () => parseConfig(text, "/etc/edge/config.json"),
    /Listen\[0\]\.Port: line 2, column 40: duplicate key \(also at line 2, column 29\)/,
  );
});
