/**
 * collectd.conf's grammar (collectd 5.12 src/liboconfig: scanner.l and parser.y), read the way
 * collectd reads it, so the agent can check a new config before collectd ever sees it.
 * @module
 */
import { scan, type Token } from "./_scanner.ts";

/** One argument, typed as collectd types it. */
export type ConfValue =
  | { type: "string"; value: string }
  | { type: "number"; value: number }
  | { type: "boolean"; value: boolean };

/** One option (`Key arg...`) or block (`<Key arg...> ... </Key>`). */
export interface ConfItem {
  key: string;
  values: ConfValue[];
  /** Empty for an option and for a block with nothing inside (collectd treats both alike). */
  children: ConfItem[];
  /** 1-based line of the key. */
  line: number;
}

/** The result of {@linkcode parseCollectdConf}. */
export type ParseResult =
  | { ok: true; items: ConfItem[] }
  | { ok: false; line: number; reason: string };

/** Blocks nested deeper than this are refused (real configs nest two or three). */
const MAX_NESTING = 1000;
/** A collectd.conf may not be larger than this (the MQTT message's own limit is 1 MiB). */
const MAX_TEXT = 4 * 1024 * 1024;

/**
 * Parses collectd.conf text into collectd's item tree. Keys keep their case (collectd compares
 * them case-insensitively); `Include` is NOT resolved here (see `resolveIncludes`). Fails where
 * collectd's parser fails, and also on two things collectd would read differently from a text
 * editor: a carriage return and a NUL character. Error messages never quote the text.
 */
export function parseCollectdConf(text: string): ParseResult {
  if (text.length > MAX_TEXT) return { ok: false, line: 1, reason: "larger than 4 MiB" };
  const cr = text.indexOf("\r");
  if (cr >= 0) {
    return {
      ok: false,
      line: lineAt(text, cr),
      reason: "carriage return: collectd.conf must use Unix line endings (LF)",
    };
  }
  const nul = text.indexOf("\0");
  if (nul >= 0) return { ok: false, line: lineAt(text, nul), reason: "NUL character" };
  return new Parser(scan(text)).file();
}

function lineAt(text: string, index: number): number {
  let line = 1;
  for (let i = 0; i < index; i++) if (text.charCodeAt(i) === 0x0a) line++;
  return line;
}

class ParseFailure extends Error {
  constructor(readonly line: number, reason: string) {
    super(reason);
  }
}

const DESCRIBE: Record<Token["kind"], string> = {
  EOL: "end of line",
  SLASH: '"/"',
  OPEN: '"<"',
  CLOSE: '">"',
  TRUE: "a boolean",
  FALSE: "a boolean",
  NUMBER: "a number",
  QUOTED: "a quoted string",
  UNQUOTED: "a word",
};

/** parser.y as recursive descent (the grammar is LALR(1); two tokens of lookahead suffice). */
class Parser {
  #at = 0;
  #depth = 0;
  constructor(readonly tokens: Token[]) {}

  file(): ParseResult {
    try {
      const items = this.#statements(null);
      return { ok: true, items };
    } catch (e) {
      if (e instanceof ParseFailure) return { ok: false, line: e.line, reason: e.message };
      throw e;
    }
  }

  #peek(offset = 0): Token | undefined {
    return this.tokens[this.#at + offset];
  }

  #fail(expected: string): never {
    const t = this.#peek();
    const last = this.tokens[this.tokens.length - 1];
    const line = t?.line ?? (last ? last.line + (last.kind === "EOL" ? 1 : 0) : 1);
    throw new ParseFailure(
      line,
      `expected ${expected}, found ${t ? DESCRIBE[t.kind] : "the end of the file"}`,
    );
  }

  #expect(kind: Token["kind"], what: string): Token {
    const t = this.#peek();
    if (t?.kind !== kind) this.#fail(what);
    this.#at++;
    return t;
  }

  /** statement_list up to the end (top level) or up to `</` (inside block `key`). */
  #statements(key: string | null): ConfItem[] {
    const items: ConfItem[] = [];
    for (;;) {
      const t = this.#peek();
      if (t === undefined) {
        if (key !== null) this.#fail(`"</${key}>"`);
        return items;
      }
      if (t.kind === "OPEN" && this.#peek(1)?.kind === "SLASH") {
        if (key === null) this.#fail("a statement");
        return items;
      }
      const item = this.#statement();
      // parser.y keeps only statements with arguments or children.
      if (item !== null && (item.values.length > 0 || item.children.length > 0)) items.push(item);
    }
  }

  #statement(): ConfItem | null {
    const t = this.#peek()!;
    if (t.kind === "EOL") {
      this.#at++;
      return null;
    }
    if (t.kind === "OPEN") return this.#block();
    if (t.kind !== "UNQUOTED") this.#fail("an option name, a block or an end of line");
    this.#at++;
    const values = this.#arguments();
    if (values.length === 0) this.#fail("an argument");
    this.#expect("EOL", "an end of line");
    return { key: t.text, values, children: [], line: t.line };
  }

  #block(): ConfItem {
    const open = this.#peek()!;
    // collectd's bison stack gives out a few thousand levels deep; a stack overflow here must not.
    if (++this.#depth > MAX_NESTING) {
      throw new ParseFailure(open.line, `blocks nested more than ${MAX_NESTING} deep`);
    }
    this.#at++; // <
    const key = this.#expect("UNQUOTED", "a block name");
    const values = this.#arguments();
    this.#expect("CLOSE", '">"');
    this.#expect("EOL", "an end of line");
    const children = this.#statements(key.text);
    this.#at += 2; // < /
    const end = this.#expect("UNQUOTED", "a block name");
    if (end.text !== key.text) {
      throw new ParseFailure(end.line, `block <${key.text}> (line ${key.line}) not closed`);
    }
    this.#expect("CLOSE", '">"');
    this.#expect("EOL", "an end of line");
    this.#depth--;
    return { key: key.text, values, children, line: key.line };
  }

  #arguments(): ConfValue[] {
    const values: ConfValue[] = [];
    for (;;) {
      const t = this.#peek();
      if (t === undefined) return values;
      if (t.kind === "QUOTED") values.push({ type: "string", value: unquote(t.text) });
      else if (t.kind === "UNQUOTED") values.push({ type: "string", value: t.text });
      else if (t.kind === "NUMBER") values.push({ type: "number", value: toNumber(t.text) });
      else if (t.kind === "TRUE" || t.kind === "FALSE") {
        values.push({ type: "boolean", value: t.kind === "TRUE" });
      } else return values;
      this.#at++;
    }
  }
}

/** parser.y's unquote(): drop the quotes, then each backslash (keeping the character after it). */
export function unquote(quoted: string): string {
  if (quoted.length < 2 || !quoted.startsWith('"') || !quoted.endsWith('"')) return quoted;
  return quoted.slice(1, -1).replace(/\\([\s\S]?)/g, "$1");
}

/** strtod() of a NUMBER token (decimal, float or hexadecimal; "010" is ten, as strtod reads it). */
function toNumber(text: string): number {
  if (/^0[xX]/.test(text)) return Number.parseInt(text.slice(2), 16);
  return Number.parseFloat(text);
}
