import assert from "node:assert/strict";
import { pidFileFor, topLevelOption } from "../../../src/collectd_conf/replace/_paths.ts";

Deno.test("pidFileFor() prefers PIDPath, then the config's top-level PIDFile, then collectd's default", () => {
  const text = '# PIDFile "/comment.pid"\n<Plugin x>\n  PIDFile "/inner.pid"\n</Plugin>\n' +
    'pidfile "run/collectd.pid"\n';
  assert.equal(topLevelOption(text, "PIDFile"), "run/collectd.pid");
  assert.equal(
    pidFileFor(text, "/etc/collectd/collectd.conf", undefined),
    "/etc/collectd/run/collectd.pid",
  );
  assert.equal(pidFileFor(text, "/etc/c.conf", "/x.pid"), "/x.pid");
  assert.equal(pidFileFor("Interval 10\n", "/etc/c.conf", undefined), "/var/run/collectd.pid");
});
