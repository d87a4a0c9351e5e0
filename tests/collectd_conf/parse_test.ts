import assert from "node:assert/strict";
import { join } from "node:path";
import { type ConfItem, parseCollectdConf } from "../../src/collectd_conf/mod.ts";
import { COLLECTD } from "../_helpers/collectd_peer.ts";

function items(text: string): ConfItem[] {
  const parsed = parseCollectdConf(text);
  assert.ok(parsed.ok, JSON.stringify(parsed));
  return parsed.items;
}

/** key → string values of each top-level item, for compact assertions. */
const flat = (list: ConfItem[]) => list.map((i) => [i.key, ...i.values.map((v) => v.value)]);

Deno.test("parseCollectdConf() reads options, blocks, typed values and comments as collectd does", () => {
  const list = items(
    '# comment\nHostname "web 1" # trailing\nInterval 10\nFQDNLookup false\n\n' +
      '<Plugin network>\n  Server "127.0.0.1" 25826\n  <Server ::1>\n  </Server>\n</Plugin>\n' +
      "Listen 10.0.0.1:8080 0x10 -1.5e+3 on\n",
  );
  assert.deepEqual(flat(list), [
    ["Hostname", "web 1"],
    ["Interval", 10],
    ["FQDNLookup", false],
    ["Plugin", "network"],
    ["Listen", "10.0.0.1:8080", 16, -1500, true],
  ]);
  const network = list[3]!;
  assert.equal(network.line, 6);
  assert.deepEqual(flat(network.children), [["Server", "127.0.0.1", 25826], ["Server", "::1"]]);
});

Deno.test("parseCollectdConf() unquotes like collectd: a backslash keeps the next character, a quoted string may span lines", () => {
  assert.deepEqual(flat(items('A "x\\"y\\\\z\\n"\n')), [["A", 'x"y\\zn']]);
  assert.deepEqual(flat(items('A "one\ntwo"\n')), [["A", "one\ntwo"]]);
  // A backslash at the end of a quoted line continues it; the next line's indent is dropped.
  assert.deepEqual(flat(items('A "con\\\n     tinued"\n')), [["A", "continued"]]);
  // Outside quotes it continues the line (as separate tokens).
  assert.deepEqual(flat(items("LoadPlugin \\\n  cpu\n")), [["LoadPlugin", "cpu"]]);
});

Deno.test("parseCollectdConf() skips characters no scanner rule matches, as collectd does (an unterminated quote vanishes)", () => {
  assert.deepEqual(flat(items('LoadPlugin "exec\n')), [["LoadPlugin", "exec"]]);
  assert.deepEqual(flat(items("Interval {{10}}\n")), [["Interval", 10]]);
  assert.deepEqual(flat(items("Key a.b $c\n")), [["Key", "a", "b", "c"]]);
});

Deno.test("parseCollectdConf() fails where collectd's parser fails, with the line and without quoting the text", () => {
  const cases: [string, number, RegExp][] = [
    ["Hostname\n", 1, /expected an argument/],
    ['<Plugin x>\n  Secret "s3cret"\n', 3, /"<\/Plugin>"/],
    ["<Plugin x>\n</Other>\n", 2, /not closed/],
    ["</Plugin>\n", 1, /expected a statement/],
    ['Hostname "x"', 1, /end of line/],
    ["true 1\n", 1, /option name/],
    ["Hostname x\r\n", 1, /carriage return/],
    ['A "\0"\n', 1, /NUL/],
    ["<a>\n".repeat(100_000), 1001, /nested more than 1000 deep/],
  ];
  for (const [text, line, reason] of cases) {
    const parsed = parseCollectdConf(text);
    assert.equal(parsed.ok, false, text);
    if (parsed.ok) continue;
    assert.equal(parsed.line, line, text);
    assert.match(parsed.reason, reason, text);
    assert.ok(!parsed.reason.includes("s3cret"));
  }
});

Deno.test("parseCollectdConf() stays linear on a text full of unterminated escaped quotes", () => {
  const text = 'A "\\"'.repeat(200_000) + "\n";
  const started = performance.now();
  parseCollectdConf(text);
  assert.ok(performance.now() - started < 5000, "parsed in well under 5 s");
});

// ---------------------------------------------------------------------------------------------
// Against collectd 5.12 itself: `collectd -T` logs each plugin it tries to load.

/** The plugins collectd tries to load for `body` (lower case), and whether it could parse it. */
async function collectdLoads(body: string): Promise<{ parsed: boolean; plugins: string[] }> {
  const dir = await Deno.makeTempDir({ prefix: "edge-agent-conf-diff-" });
  try {
    const file = join(dir, "collectd.conf");
    await Deno.writeTextFile(file, `BaseDir "${dir}"\nPIDFile "${dir}/pid"\n${body}`);
    const out = await new Deno.Command(COLLECTD, {
      args: ["-T", "-C", file],
      stdout: "null",
      stderr: "piped",
      cwd: dir,
    }).output();
    const err = new TextDecoder().decode(out.stderr);
    const plugins = [...err.matchAll(/plugin_load: (?:plugin|Could not find plugin) "([^"]*)"/g)]
      .map((m) => m[1]!.toLowerCase());
    return { parsed: !/Parse error/.test(err), plugins };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** What the agent's parser says collectd loads: LoadPlugin items with exactly one string. */
function agentLoads(body: string): { parsed: boolean; plugins: string[] } {
  const parsed = parseCollectdConf(body);
  if (!parsed.ok) return { parsed: false, plugins: [] };
  const plugins = parsed.items.filter((i) =>
    i.key.toLowerCase() === "loadplugin" && i.values.length === 1 &&
    i.values[0]!.type === "string"
  ).map((i) => String(i.values[0]!.value).toLowerCase());
  return { parsed: true, plugins };
}

const TRICKY: Record<string, string> = {
  "plain and block forms, any case": "LoadPlugin load\nloadplugin UPTIME\n<LoadPlugin users>\n" +
    "  Interval 5\n</LoadPlugin>\n<LoadPlugin nosuch>\n</LoadPlugin>\n",
  "an unterminated quote is skipped": "LoadPlugin \"swap\nLoadPlugin 'load'\n",
  "a continued quoted string": 'LoadPlugin "up\\\n     time"\nLoadPlugin "us\\\n\\\n ers"\n',
  "a continuation splits a word": "LoadPlugin me\\\nmory\nLoadPlugin \\\n  load\n",
  "a quoted string spanning lines swallows a LoadPlugin": 'Hostname "a\nLoadPlugin swap\n"\n' +
    "LoadPlugin load\n",
  "comments and escapes": 'LoadPlugin "lo\\ad" # LoadPlugin swap\n#LoadPlugin users\n' +
    'LoadPlugin "cpu#x"\n',
  "skipped characters": "LoadPlugin {load}\nLoadPlugin @uptime\n$LoadPlugin users\n",
  "numbers, booleans and addresses are not names": "LoadPlugin 0x10\nLoadPlugin on\n" +
    "LoadPlugin 1.2.3.4\nLoadPlugin ::1\nLoadPlugin 1e5x\n",
  "a parse error": "LoadPlugin load\n<Plugin load>\n",
  "a block without arguments is dropped": "<LoadPlugin>\n</LoadPlugin>\nLoadPlugin uptime\n",
  "two arguments, hex-colon words, quoted block names": "LoadPlugin load extra\n" +
    'LoadPlugin ad::load\nLoadPlugin cafe::\n<LoadPlugin "swap">\n</LoadPlugin>\n',
  "an unclosed block start": '<LoadPlugin "up"\n</LoadPlugin>\n',
};

Deno.test("parseCollectdConf() agrees with collectd 5.12 on which plugins tricky configs load", async () => {
  for (const [name, body] of Object.entries(TRICKY)) {
    const real = await collectdLoads(body);
    const ours = agentLoads(body);
    assert.equal(ours.parsed, real.parsed, `${name}: parse outcome`);
    if (real.parsed) assert.deepEqual(ours.plugins, real.plugins, name);
  }
});

/** Pieces of LoadPlugin lines that stress quoting, escapes, continuations and skipped characters. */
const PIECES = [
  ...["load", "swap", "users", "cpu", "memory", "e", "ad", "on", "0", "1.5", "-", ".", "::", "$"],
  ...['"', '"up', 'time"', "{", "'", "#x", "\n", " ", "\t", "\\", '\\"', "\\\\", "\\\n"],
  ...["\\\n  ", '"\\\n   '],
];

/** A seeded generator of configs made of LoadPlugin lines and blocks. */
function* generated(count: number, seed: number): Generator<string> {
  const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff) / 0x7fffffff;
  const pick = () => PIECES[Math.floor(next() * PIECES.length)]!;
  for (let k = 0; k < count; k++) {
    let body = "";
    for (let lines = 1 + Math.floor(next() * 6); lines > 0; lines--) {
      if (next() < 0.2) body += pick();
      const block = next() < 0.25;
      body += block ? "<LoadPlugin " : next() < 0.5 ? "LoadPlugin " : "loadplugin\t";
      for (let n = 1 + Math.floor(next() * 4); n > 0; n--) body += pick();
      body += block ? ">\n</LoadPlugin>\n" : "\n";
    }
    yield body;
  }
}

Deno.test("parseCollectdConf() agrees with collectd 5.12 on 300 generated configs (parse outcome and plugins)", async () => {
  let loading = 0;
  for (const body of generated(300, 20261207)) {
    const real = await collectdLoads(body);
    const ours = agentLoads(body);
    assert.equal(ours.parsed, real.parsed, `parse outcome of ${JSON.stringify(body)}`);
    // collectd logs a loaded plugin once (a second LoadPlugin of it is silent); names with a quote
    // cannot be told apart in its log.
    if (!real.parsed || ours.plugins.some((p) => p.includes('"'))) continue;
    if (real.plugins.length > 0) loading++;
    assert.deepEqual([...new Set(ours.plugins)], [...new Set(real.plugins)], JSON.stringify(body));
  }
  assert.ok(loading > 50, `enough generated configs load plugins (${loading})`);
});
