import assert from "node:assert/strict";
import { join } from "node:path";
import {
  type ConfFs,
  denoFs,
  type IncludeOptions,
  type IncludeResult,
  parseCollectdConf,
  resolveIncludes,
} from "../../src/collectd_conf/mod.ts";

const ROOT = new URL("../../", import.meta.url).pathname;

/** A temp folder with `files` (relative path → text) written into it. */
async function tree(files: Record<string, string>): Promise<string> {
  const dir = await Deno.realPath(await Deno.makeTempDir({ prefix: "edge-agent-include-" }));
  for (const [name, text] of Object.entries(files)) {
    await Deno.mkdir(join(dir, name, ".."), { recursive: true });
    await Deno.writeTextFile(join(dir, name), text);
  }
  return dir;
}

/** The real file system, with every path it was asked about recorded. */
function spyFs(seen: string[]): ConfFs {
  return {
    kind: (p) => (seen.push(p), denoFs.kind(p)),
    readDir: (p) => (seen.push(p), denoFs.readDir(p)),
    readTextFile: (p) => (seen.push(p), denoFs.readTextFile(p)),
    realPath: (p) => (seen.push(p), denoFs.realPath(p)),
  };
}

async function resolve(
  text: string,
  options: Partial<IncludeOptions> & { includeDirs: string[] },
): Promise<IncludeResult> {
  const parsed = parseCollectdConf(text);
  assert.ok(parsed.ok, JSON.stringify(parsed));
  return await resolveIncludes(parsed.items, { ownFiles: [], ...options });
}

/** "key value@file" of each resolved item. */
function summary(result: IncludeResult, dir: string): string[] {
  assert.ok(result.ok, JSON.stringify(result));
  return result.items.map(({ item, file }) =>
    `${item.key} ${item.values.map((v) => v.value).join(" ")}@${file.replace(dir, "")}`
  );
}

Deno.test("resolveIncludes() splices globs in byte order, folders without dot files, Filter and nested includes as collectd does", async () => {
  const dir = await tree({
    "conf.d/b.conf": "LoadPlugin b\n",
    "conf.d/A.conf": "LoadPlugin A\n",
    "conf.d/.hidden.conf": "LoadPlugin hidden\n",
    "conf.d/notes.txt": "this is not collectd syntax\n",
    "conf.d/sub/c.conf": "", // written below: it names the folder
    "more/d.conf": "LoadPlugin d\n",
    "more/e.conf": "LoadPlugin e\n",
  });
  await Deno.writeTextFile(
    join(dir, "conf.d/sub/c.conf"),
    `LoadPlugin c\nInclude "${dir}/more/*.conf"\n`,
  );
  try {
    const result = await resolve(
      `LoadPlugin first\n<Include "${dir}/conf.d">\n  Filter "*.conf"\n</Include>\nLoadPlugin last\n`,
      { includeDirs: [dir] },
    );
    assert.deepEqual(summary(result, dir), [
      "LoadPlugin first@collectd.conf",
      "LoadPlugin A@/conf.d/A.conf",
      "LoadPlugin b@/conf.d/b.conf",
      "LoadPlugin c@/conf.d/sub/c.conf",
      "LoadPlugin d@/more/d.conf",
      "LoadPlugin e@/more/e.conf",
      "LoadPlugin last@collectd.conf",
    ]);
    assert.ok(result.ok && result.files.length === 5);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("resolveIncludes() refuses an Include outside IncludeDirs without looking at it", async () => {
  const allowed = await tree({ "a.conf": "LoadPlugin a\n" });
  const outside = await tree({ "exec.conf": "LoadPlugin exec\n" });
  try {
    for (const word of [`${outside}/exec.conf`, `${outside}/*.conf`, outside, `${allowed}/../x`]) {
      const seen: string[] = [];
      const result = await resolve(`Include "${word}"\n`, {
        includeDirs: [allowed],
        fs: spyFs(seen),
      });
      assert.equal(result.ok, false, word);
      if (result.ok) continue;
      assert.equal(result.problem.kind, "refused");
      assert.match(result.problem.message, /Include ".*" \(collectd\.conf line 1\)/);
      assert.ok(!seen.some((p) => p.startsWith(outside)), `${word}: read ${seen.join(", ")}`);
    }
  } finally {
    await Deno.remove(allowed, { recursive: true });
    await Deno.remove(outside, { recursive: true });
  }
});

Deno.test("resolveIncludes() follows symbolic links only to files inside IncludeDirs", async () => {
  const allowed = await tree({ "ok.conf": "LoadPlugin ok\n" });
  const outside = await tree({ "exec.conf": "LoadPlugin exec\n" });
  try {
    await Deno.symlink(join(allowed, "ok.conf"), join(allowed, "alias.conf"));
    const fine = await resolve(`Include "${allowed}/alias.conf"\n`, { includeDirs: [allowed] });
    assert.deepEqual(summary(fine, allowed), ["LoadPlugin ok@/alias.conf"]);

    await Deno.symlink(join(outside, "exec.conf"), join(allowed, "evil.conf"));
    const result = await resolve(`Include "${allowed}/*.conf"\n`, { includeDirs: [allowed] });
    assert.equal(result.ok, false);
    assert.match(!result.ok ? result.problem.message : "", /evil\.conf leads to .*exec\.conf/);
  } finally {
    await Deno.remove(allowed, { recursive: true });
    await Deno.remove(outside, { recursive: true });
  }
});

Deno.test("resolveIncludes() refuses to include the collectd.conf being replaced, its .new or .orig", async () => {
  const dir = await tree({ "collectd.conf": "LoadPlugin cpu\n", "conf.d/a.conf": "" });
  const conf = join(dir, "collectd.conf");
  const own = [conf, `${conf}.new`, `${conf}.orig`];
  try {
    for (const word of [conf, `${conf}.new`, `${dir}/collectd.conf.n*`, dir]) {
      const result = await resolve(`Include "${word}"\n`, { includeDirs: [dir], ownFiles: own });
      assert.equal(result.ok, false, word);
      assert.match(!result.ok ? result.problem.message : "", /being replaced/, word);
    }
    const fine = await resolve(`Include "${dir}/conf.d"\n`, { includeDirs: [dir], ownFiles: own });
    assert.ok(fine.ok);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("resolveIncludes() refuses shell syntax wordexp would expand instead of guessing", async () => {
  const dir = await tree({ "a.conf": "" });
  try {
    for (const word of ["$HOME/a.conf", "~/a.conf", `${dir}/a b.conf`, `${dir}/{a,b}.conf`, ""]) {
      const result = await resolve(`Include "${word}"\n`, { includeDirs: ["/"] });
      assert.equal(result.ok, false, word);
      assert.equal(!result.ok && result.problem.kind, "refused", word);
    }
    await Deno.writeTextFile(join(dir, "odd name.conf"), "LoadPlugin exec\n");
    const odd = await resolve(`Include "${dir}"\n`, { includeDirs: [dir] });
    assert.match(!odd.ok ? odd.problem.message : "", /odd name\.conf would be expanded/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("resolveIncludes() resolves a relative path against collectd's working directory /", async () => {
  const dir = await tree({ "a.conf": "LoadPlugin a\n" });
  try {
    const result = await resolve(`Include "${dir.slice(1)}/a.conf"\n`, { includeDirs: [dir] });
    assert.deepEqual(summary(result, dir), ["LoadPlugin a@/a.conf"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("resolveIncludes() reports what collectd would fail on: nesting deeper than 8, a broken included file", async () => {
  const dir = await tree({ "loop.conf": "", "broken.conf": 'Hostname "x"\n<Plugin y>\n' });
  try {
    await Deno.writeTextFile(join(dir, "loop.conf"), `Include "${dir}/loop.conf"\n`);
    const loop = await resolve(`Include "${dir}/loop.conf"\n`, { includeDirs: [dir] });
    assert.deepEqual(!loop.ok && [loop.problem.kind, /deeper than 7/.test(loop.problem.message)], [
      "invalid",
      true,
    ]);
    const broken = await resolve(`Include "${dir}/broken.conf"\n`, { includeDirs: [dir] });
    assert.equal(!broken.ok && broken.problem.kind, "invalid");
    assert.match(!broken.ok ? broken.problem.message : "", /broken\.conf line 3/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("resolveIncludes() in lenient mode (the current config) skips what it cannot read and notes it", async () => {
  const allowed = await tree({ "a.conf": "LoadPlugin a\n" });
  try {
    const result = await resolve(
      `Include "/somewhere/else.conf"\nInclude "${allowed}/a.conf"\n`,
      { includeDirs: [allowed], lenient: true },
    );
    assert.deepEqual(summary(result, allowed), ["LoadPlugin a@/a.conf"]);
    assert.ok(result.ok && result.notes.length === 1 && /outside/.test(result.notes[0]!));
  } finally {
    await Deno.remove(allowed, { recursive: true });
  }
});

Deno.test("resolveIncludes() under a --allow-read that does not grant an include folder refuses naming the flag, never 'nothing there'", async () => {
  const granted = await tree({ "a.conf": "LoadPlugin a\n" });
  const notGranted = await tree({ "exec.conf": "LoadPlugin exec\n" });
  const script = join(granted, "probe.ts");
  await Deno.writeTextFile(
    script,
    `import { parseCollectdConf, resolveIncludes } from "${ROOT}src/collectd_conf/mod.ts";
const p = parseCollectdConf('Include "${notGranted}/exec.conf"\\n');
if (!p.ok) throw new Error("parse");
const r = await resolveIncludes(p.items, { includeDirs: ["${granted}", "${notGranted}"], ownFiles: [] });
console.log(JSON.stringify(r));
`,
  );
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-prompt", `--allow-read=${granted}`, script],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    assert.ok(out.success, text + new TextDecoder().decode(out.stderr));
    const result = JSON.parse(text) as IncludeResult;
    assert.equal(result.ok, false);
    assert.match(!result.ok ? result.problem.message : "", /cannot read it: .*--allow-read/);
  } finally {
    await Deno.remove(granted, { recursive: true });
    await Deno.remove(notGranted, { recursive: true });
  }
});

Deno.test("resolveIncludes() pulls in the same files in the same order as collectd 5.12", async () => {
  const dir = await tree({
    "conf.d/20-b.conf": "LoadPlugin b20\n",
    "conf.d/10-a.conf": "LoadPlugin a10\n",
    "conf.d/Z.conf": "LoadPlugin zupper\n",
    "conf.d/.dot.conf": "LoadPlugin dot\n",
    "conf.d/skip.txt": "LoadPlugin txt\n",
    "conf.d/nested/x.conf": "LoadPlugin nestedx\n",
    "glob/one.conf": "LoadPlugin one\n",
    "glob/two.conf": "LoadPlugin two\n",
    "glob/three.other": "LoadPlugin three\n",
  });
  const body = `LoadPlugin first\n<Include "${dir}/conf.d">\n  Filter "*.conf"\n</Include>\n` +
    `Include "${dir}/glob/t*"\nInclude "${dir}/glob/o?e.conf"\nInclude "${dir}/nothing*"\n` +
    `LoadPlugin last\n`;
  const conf = join(dir, "collectd.conf");
  await Deno.writeTextFile(conf, `BaseDir "${dir}"\n${body}`);
  try {
    const out = await new Deno.Command("/usr/sbin/collectd", {
      args: ["-T", "-C", conf],
      stdout: "null",
      stderr: "piped",
      cwd: "/",
    }).output();
    const real = [...new TextDecoder().decode(out.stderr).matchAll(/plugin "([^"]*)" in /g)]
      .map((m) => m[1]);
    const ours = summary(await resolve(body, { includeDirs: [dir] }), dir)
      .map((line) => line.split(/[ @]/)[1]);
    assert.deepEqual(ours, real);
    assert.deepEqual(real, [
      "first",
      "a10",
      "b20",
      "zupper",
      "nestedx",
      "three",
      "two",
      "one",
      "last",
    ]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
