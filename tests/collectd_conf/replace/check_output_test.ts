import assert from "node:assert/strict";
import { join } from "node:path";
import { checkOutputText } from "../../../src/collectd_conf/replace/_check_output.ts";
import { createCollectdChecker } from "../../../src/collectd_conf/replace/_collectd.ts";

const SECRET = "pw-" + crypto.randomUUID();

Deno.test("checkOutputText() keeps collectd's log lines from stdout and its stderr", () => {
  const text = checkOutputText(
    '"@[2026-11-23 10:00:00] plugin_load: Could not find plugin "nosuch" in /usr/lib/collectd\n' +
      "[error] network plugin: bad option\n",
    '[2026-11-23 10:00:00] plugin_load: plugin "logfile" successfully loaded.\n' +
      "Error: Parsing the config file failed!\n",
  );
  assert.equal(
    text,
    '[2026-11-23 10:00:00] plugin_load: Could not find plugin "nosuch" in /usr/lib/collectd\n' +
      "[error] network plugin: bad option\n" +
      '[2026-11-23 10:00:00] plugin_load: plugin "logfile" successfully loaded.\n' +
      "Error: Parsing the config file failed!\n" +
      "(2 characters of collectd's standard output withheld: not log lines, they may echo " +
      "config text)",
  );
});

Deno.test("checkOutputText() withholds the scanner's echo of config text and redacts near `...'", () => {
  const text = checkOutputText(
    `Password "${SECRET}"\nmore secret text\n`,
    `Parse error in file \`x.conf', line 7 near \`${SECRET}': syntax error\n`,
  );
  assert.ok(!text.includes(SECRET), text);
  assert.match(text, /near `…': syntax error/);
  assert.match(text, /\(\d+ characters of collectd's standard output withheld/);
});

Deno.test("the collectd check reports what a logfile plugin on STDOUT says, and no config text the scanner echoes", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const check = createCollectdChecker("/usr/sbin/collectd");
    const logfile = "<Plugin logfile>\n  LogLevel info\n  File STDOUT\n</Plugin>\n";
    await Deno.writeTextFile(
      join(dir, "plugin.conf"),
      `Hostname "x"\nLoadPlugin logfile\n${logfile}LoadPlugin nosuchplugin\n`,
    );
    const missing = await check(join(dir, "plugin.conf"));
    assert.equal(missing.ok, false);
    assert.match(missing.output, /Could not find plugin "nosuchplugin"/);

    // An unterminated multi-line string: the scanner echoes the rest of the file to stdout.
    await Deno.writeTextFile(
      join(dir, "leak.conf"),
      `Hostname "x"\nLoadPlugin logfile\n${logfile}Password "abc\\\n${SECRET}\nmore\n`,
    );
    const leak = await check(join(dir, "leak.conf"));
    assert.equal(leak.ok, false);
    assert.ok(!leak.output.includes(SECRET), leak.output);
    assert.match(leak.output, /Parse error/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
