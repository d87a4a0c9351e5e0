/**
 * The man page (packaging/edge-agent.1, installed by the .deb) and the CLI's own help cannot
 * drift: every subcommand `--help` lists has its section with its summary, every option of it is
 * in that section and in its synopsis line, and the page names no command or option that is gone.
 */
import assert from "node:assert/strict";
import { COMMANDS } from "../../src/cli/mod.ts";
import { ExitCode } from "../../src/model/mod.ts";

const MAN_PATH = new URL("../../packaging/edge-agent.1", import.meta.url).pathname;
const man = await Deno.readTextFile(MAN_PATH);
const visible = COMMANDS.filter((c) => !c.hidden);

/** Splits a macro line's arguments (quoted strings stay one argument). */
function macroArgs(rest: string): string[] {
  return [...rest.matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)].map((m) => m[1] ?? m[2]!);
}

/** One roff source line as the reader sees it (fonts dropped, escapes resolved). */
function lineText(line: string): string {
  let text = line;
  const macro = /^\.([A-Za-z]+)\s*(.*)$/.exec(line);
  if (macro) {
    const [, name, rest] = macro as unknown as [string, string, string];
    const args = macroArgs(rest);
    if (["BR", "RB", "IR", "RI", "BI", "IB"].includes(name)) text = args.join("");
    else if (["B", "I", "SH", "SS"].includes(name)) text = args.join(" ");
    else text = "";
  } else if (line.startsWith(".") || line.startsWith("'")) {
    text = "";
  }
  return text.replace(/\\f[BIRP]/g, "").replace(/\\-/g, "-").replace(/\\\(en/g, "–")
    .replace(/\\\(mu/g, "×").replace(/\\e/g, "\\").replace(/\\&/g, "");
}

/** The source lines of each `.SH` section, by its (reader's) title. */
function sections(source: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of source.split("\n")) {
    if (line.startsWith(".SH")) out.set(lineText(line), current = []);
    else current?.push(line);
  }
  return out;
}

/** Splits lines at each line for which `starts` is true, keyed by that line's text. */
function splitAt(lines: string[], starts: (line: string) => boolean): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of lines) {
    if (starts(line)) out.set(lineText(line), current = []);
    else current?.push(line);
  }
  return out;
}

const bySection = sections(man);
const commandSections = splitAt(bySection.get("COMMANDS") ?? [], (l) => l.startsWith(".SS"));
/** The SYNOPSIS, one entry per line the reader sees (between `.br`s). */
const synopsis: string[][] = [[]];
for (const line of bySection.get("SYNOPSIS") ?? []) {
  if (line === ".br") synopsis.push([]);
  else synopsis[synopsis.length - 1]!.push(line);
}

/** The reader's text of some source lines, one line. */
const text = (lines: readonly string[]) =>
  lines.map(lineText).filter((t) => t).join(" ").replace(/\s+/g, " ");

/** Each option as a reader would type it: `--name`, and `-x` for a short one. */
function optionSpellings(command: typeof COMMANDS[number]): string[] {
  return Object.entries(command.options).flatMap(([name, o]) => [
    `--${name}`,
    ...("short" in o && o.short ? [`-${o.short}`] : []),
  ]);
}

const names = (t: string, option: string) =>
  new RegExp(`(^|[\\s(\\[|,])${option.replace(/[-]/g, "\\-")}(?![\\w-])`).test(t);

/** The synopsis lines (between `.br`s) of one command, as the reader sees them. */
function synopsisOf(name: string): string | undefined {
  for (const lines of synopsis) {
    const t = text(lines);
    const first = name === "run" ? "edge-agent [run]" : `edge-agent ${name} `;
    if (t.startsWith(first) || t === `edge-agent ${name}`) return t;
  }
  return undefined;
}

Deno.test("the man page has a section for every subcommand of the CLI, opening with its --help summary", () => {
  assert.ok(visible.length >= 6, "the CLI lists its subcommands");
  for (const c of visible) {
    const lines = commandSections.get(c.name);
    assert.ok(lines, `packaging/edge-agent.1 has no ".SS ${c.name}" under COMMANDS`);
    const intro = text(lines.slice(0, lines.findIndex((l) => l.startsWith(".TP")) >>> 0));
    assert.ok(
      intro.toLowerCase().includes(c.summary.toLowerCase()),
      `the man page's ${c.name} section does not say what --help says: "${c.summary}"`,
    );
  }
});

Deno.test("the man page names every option of every subcommand in its section and its synopsis line", () => {
  for (const c of visible) {
    const section = text(commandSections.get(c.name) ?? []);
    const line = synopsisOf(c.name);
    assert.ok(line, `the man page's SYNOPSIS has no line for edge-agent ${c.name}`);
    for (const option of optionSpellings(c)) {
      assert.ok(names(section, option), `${c.name} ${option} is not described in its section`);
      if (option.startsWith("--")) {
        assert.ok(names(line, option), `${c.name} ${option} is missing from the SYNOPSIS: ${line}`);
      }
    }
  }
});

Deno.test("the man page names no subcommand or option the CLI does not have", () => {
  const known = new Set(visible.map((c) => c.name));
  for (const [name, lines] of commandSections) {
    assert.ok(known.has(name), `the man page documents "${name}", which the CLI does not have`);
    const command = visible.find((c) => c.name === name)!;
    const spellings = new Set(optionSpellings(command));
    // The tag line after each .TP names the options the paragraph describes.
    lines.forEach((l, i) => {
      if (l !== ".TP") return;
      const tag = lineText(lines[i + 1] ?? "");
      for (const option of tag.match(/(?<![\w-])--?[a-z][\w-]*/g) ?? []) {
        assert.ok(spellings.has(option), `the man page describes ${name} ${option}, which is gone`);
      }
    });
  }
  for (const hidden of COMMANDS.filter((c) => c.hidden)) {
    assert.ok(!man.includes(hidden.name), `the internal ${hidden.name} is in the man page`);
  }
});

Deno.test("the man page's EXIT STATUS lists every exit code of the CLI", () => {
  const listed = (bySection.get("EXIT STATUS") ?? [])
    .filter((l) => /^\.B \d+$/.test(l)).map((l) => Number(l.slice(3)));
  assert.deepEqual(listed.sort(), Object.values(ExitCode).sort());
});

Deno.test("the man page renders with groff without a warning", async () => {
  const out = await new Deno.Command("groff", {
    args: ["-man", "-ww", "-z", "-Tutf8", MAN_PATH],
    stdout: "piped",
    stderr: "piped",
  }).output().catch((e) => {
    throw new Error(`groff is needed (apt-get install groff-base): ${e.message}`);
  });
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, stderr);
  assert.equal(stderr, "");
});
