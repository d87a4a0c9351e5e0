import assert from "node:assert/strict";
import { join } from "node:path";
import { includeDirsFor, vetCollectdConf, type VetOptions } from "../../src/collectd_conf/mod.ts";
import { Code } from "../../src/model/mod.ts";

async function stand(current: string) {
  const dir = await Deno.realPath(await Deno.makeTempDir({ prefix: "edge-agent-vet-" }));
  const conf = join(dir, "collectd.conf");
  await Deno.writeTextFile(conf, current);
  await Deno.mkdir(join(dir, "collectd.conf.d"));
  const options: VetOptions = {
    configPath: conf,
    ownFiles: [conf, `${conf}.new`, `${conf}.orig`],
    includeDirs: includeDirsFor([conf], undefined),
  };
  return { dir, conf, options, [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }) };
}

Deno.test("Code.CONFIG_REFUSED is 0x2010, apart from lua-collectd-monitor's 0x2000–0x2009", () => {
  assert.equal(Code.CONFIG_REFUSED, 0x2010);
});

Deno.test("vetCollectdConf() accepts a config within the policy and lists its plugins and included files", async () => {
  await using s = await stand("LoadPlugin cpu\nLoadPlugin rrdtool\n");
  await Deno.writeTextFile(join(s.dir, "collectd.conf.d/df.conf"), "LoadPlugin df\n");
  const verdict = await vetCollectdConf(
    `LoadPlugin cpu\nLoadPlugin rrdtool\nInclude "${s.dir}/collectd.conf.d/*.conf"\n`,
    s.options,
  );
  assert.ok(verdict.ok, JSON.stringify(verdict));
  assert.deepEqual(verdict.plugins, ["cpu", "rrdtool", "df"]);
  assert.deepEqual(verdict.files, [join(s.dir, "collectd.conf.d/df.conf")]);
});

Deno.test("vetCollectdConf() answers 0x2002 for text collectd could not parse and 0x2010 for the policy, naming where", async () => {
  await using s = await stand("LoadPlugin cpu\n");
  const broken = await vetCollectdConf('Hostname "x"\n<Plugin cpu>\n', s.options);
  assert.deepEqual(broken.ok ? null : [broken.code, broken.message], [
    Code.CONFIG_INVALID,
    'New config seems broken: line 3: expected "</Plugin>", found the end of the file',
  ]);

  await Deno.writeTextFile(join(s.dir, "collectd.conf.d/x.conf"), "\n\nLoadPlugin python\n");
  const hidden = await vetCollectdConf(`Include "${s.dir}/collectd.conf.d"\n`, s.options);
  assert.equal(!hidden.ok && hidden.code, Code.CONFIG_REFUSED);
  assert.match(
    !hidden.ok ? hidden.message : "",
    new RegExp(`^Refused: plugin "python" \\(loaded at ${s.dir}/collectd.conf.d/x.conf line 3\\)`),
  );

  const far = await vetCollectdConf('Include "/etc/passwd"\n', s.options);
  assert.equal(!far.ok && far.code, Code.CONFIG_REFUSED);
  assert.match(
    !far.ok ? far.message : "",
    /^Refused: Include "\/etc\/passwd" \(the new config line 1\) is outside/,
  );
});

Deno.test("vetCollectdConf() without a readable current config allows only the read-only set, and says why", async () => {
  await using s = await stand("LoadPlugin rrdtool\n");
  await Deno.remove(s.conf);
  const verdict = await vetCollectdConf("LoadPlugin rrdtool\n", s.options);
  assert.equal(!verdict.ok && verdict.code, Code.CONFIG_REFUSED);
  const fine = await vetCollectdConf("LoadPlugin cpu\n", s.options);
  assert.ok(fine.ok && /cannot read the current/.test(fine.notes[0] ?? ""));
});

Deno.test("includeDirsFor() allows collectd's own folders beside collectd.conf, never all of /etc", () => {
  assert.deepEqual(includeDirsFor(["/etc/collectd/collectd.conf"], undefined), [
    "/etc/collectd",
    "/etc/collectd/collectd.conf.d",
    "/etc/collectd/collectd.d",
  ]);
  assert.deepEqual(includeDirsFor(["/etc/collectd.conf"], undefined), [
    "/etc/collectd.conf.d",
    "/etc/collectd.d",
  ]);
  assert.deepEqual(includeDirsFor(["/etc/collectd.conf"], ["/srv/conf/"]), ["/srv/conf"]);
  assert.deepEqual(includeDirsFor(["/etc/collectd.conf"], []), [], "IncludeDirs [] allows none");
});
