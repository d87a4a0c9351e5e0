import assert from "node:assert/strict";
import {
  checkPolicy,
  type Located,
  parseCollectdConf,
  type PolicyOptions,
  READ_ONLY_PLUGINS,
  RISKY_PLUGINS,
} from "../../src/collectd_conf/mod.ts";

/** Items of `text` as if it were one file (no includes). */
function located(text: string, file = "the new config"): Located[] {
  const parsed = parseCollectdConf(text);
  assert.ok(parsed.ok, JSON.stringify(parsed));
  return parsed.items.map((item) => ({ item, file }));
}

function judge(text: string, options: Partial<PolicyOptions> & { currentText?: string } = {}) {
  const { currentText, ...rest } = options;
  return checkPolicy(located(text), {
    allowedPlugins: [],
    current: currentText === undefined ? null : located(currentText, "/etc/collectd/collectd.conf"),
    includeDirs: ["/etc/collectd"],
    ...rest,
  });
}

Deno.test("checkPolicy() refuses exec in every spelling collectd accepts, naming the plugin, the line and AllowedPlugins", () => {
  for (
    const text of [
      "LoadPlugin exec\n",
      "<LoadPlugin exec>\n  Interval 10\n</LoadPlugin>\n",
      'LoadPlugin "EXEC"\n',
      'AutoLoadPlugin true\n<Plugin exec>\n  Exec nobody "/bin/true"\n</Plugin>\n',
      '<Plugin exec>\n  Exec nobody "/bin/true"\n</Plugin>\nAutoLoadPlugin yes\n',
    ]
  ) {
    const refusal = judge(`Hostname "x"\n${text}`);
    assert.ok(refusal !== null, text);
    assert.match(refusal, /^plugin "exec" \(loaded at the new config line \d\) runs programs/);
    assert.match(refusal, /only by name in Services\.collectd\.AllowedPlugins/);
  }
});

Deno.test("checkPolicy() ignores a <Plugin> block collectd does not load (AutoLoadPlugin off)", () => {
  assert.equal(judge('<Plugin exec>\n  Exec nobody "/bin/true"\n</Plugin>\n'), null);
  assert.equal(judge("AutoLoadPlugin false\n<Plugin python>\n  Import x\n</Plugin>\n"), null);
});

Deno.test("checkPolicy() never allows a code-running plugin implicitly: not even when the current config loads it", () => {
  for (const name of ["exec", "python", "perl", "java", "lua", "unixsock", "tail", "write_http"]) {
    assert.ok(RISKY_PLUGINS.has(name), name);
    const refusal = judge(`LoadPlugin ${name}\n`, { currentText: `LoadPlugin ${name}\n` });
    assert.match(refusal ?? "", new RegExp(`plugin "${name}"`));
  }
  assert.match(judge("LoadPlugin libvirt\n") ?? "", /plugin "virt"/, "collectd's alias");
  // Only ASCII is folded (as strcasecmp): the Kelvin sign is not a "k".
  assert.match(judge('LoadPlugin "write_\u212Aafka"\n') ?? "", /neither in the default/);
});

Deno.test("checkPolicy() allows a plugin named in AllowedPlugins, in any case", () => {
  assert.equal(judge("LoadPlugin exec\n", { allowedPlugins: ["EXEC"] }), null);
  assert.equal(
    judge("LoadPlugin rrdtool\nLoadPlugin python\n", {
      allowedPlugins: ["rrdtool", "python"],
    }),
    null,
  );
});

Deno.test("checkPolicy() allows the read-only set and what the current config loads; refuses other plugins", () => {
  assert.equal(judge([...READ_ONLY_PLUGINS].map((p) => `LoadPlugin ${p}\n`).join("")), null);
  assert.match(judge("LoadPlugin rrdtool\n") ?? "", /plugin "rrdtool".*add it to Services/);
  assert.equal(judge("LoadPlugin rrdtool\n", { currentText: "LoadPlugin rrdtool\n" }), null);
  // Every plugin of the risky table is refused by default.
  for (const name of RISKY_PLUGINS.keys()) {
    assert.notEqual(judge(`LoadPlugin ${name}\n`), null, name);
    assert.ok(!READ_ONLY_PLUGINS.has(name), `${name} is in both tables`);
  }
});

Deno.test("checkPolicy() refuses a PluginDir other than the current one (it would load any code)", () => {
  assert.match(judge('PluginDir "/tmp/evil"\nLoadPlugin cpu\n') ?? "", /PluginDir "\/tmp\/evil"/);
  assert.equal(
    judge('PluginDir "/usr/lib/collectd"\n', { currentText: 'PluginDir "/usr/lib/collectd"\n' }),
    null,
  );
});

Deno.test("checkPolicy() keeps BaseDir, TypesDB, PIDFile and logfile's File where collectd may read and write them", () => {
  assert.equal(judge('BaseDir "/var/lib/collectd"\n'), null);
  assert.equal(judge('BaseDir "/srv/c"\n', { currentText: 'BaseDir "/srv/c"\n' }), null);
  assert.match(judge('BaseDir "/etc/cron.d"\n') ?? "", /BaseDir "\/etc\/cron\.d"/);

  assert.equal(judge('TypesDB "/usr/share/collectd/types.db" "/etc/collectd/my.db"\n'), null);
  assert.match(judge('TypesDB "/etc/shadow"\n') ?? "", /TypesDB "\/etc\/shadow"/);

  assert.equal(judge('PIDFile "/var/run/collectd.pid"\n'), null);
  assert.equal(judge('PIDFile "/srv/run/collectd.pid"\n', { pidPath: "/srv/run/c.pid" }), null);
  assert.match(judge('PIDFile "/etc/passwd"\n') ?? "", /PIDFile "\/etc\/passwd" .* overwritten/);
  assert.match(judge('PIDFile "/run/../etc/x.pid"\n') ?? "", /PIDFile/);
  assert.equal(
    judge('PIDFile "/opt/c/pid"\n', { currentText: 'PIDFile "/opt/c/pid"\n' }),
    null,
    "the current config's PIDFile",
  );

  const log = (file: string) =>
    `LoadPlugin logfile\n<Plugin logfile>\n  File "${file}"\n</Plugin>\n`;
  assert.equal(judge(log("STDOUT")), null);
  assert.equal(judge(log("/var/log/collectd.log")), null);
  assert.match(
    judge(log("/root/.bashrc")) ?? "",
    /log File "\/root\/\.bashrc" \(the new config line 3\)/,
  );
  assert.equal(judge(log("/opt/c.log"), { currentText: log("/opt/c.log") }), null);
});
