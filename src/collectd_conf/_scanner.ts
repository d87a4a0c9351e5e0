/**
 * collectd's config scanner (src/liboconfig/scanner.l, flex), rule for rule: at each position the
 * longest match of any rule wins, the earlier rule on a tie, and a character no rule matches is
 * skipped (flex's default rule echoes it). Carriage returns are refused by the caller, so an
 * end of line is always "\n".
 * @module
 */

/** Token kinds of collectd's parser (parser.y). */
export type TokenKind =
  | "EOL"
  | "SLASH"
  | "OPEN"
  | "CLOSE"
  | "TRUE"
  | "FALSE"
  | "NUMBER"
  | "QUOTED"
  | "UNQUOTED";

export interface Token {
  kind: TokenKind;
  /** The matched text (a quoted string with its quotes and escapes, a joined multi-line one). */
  text: string;
  /** 1-based line where the token starts. */
  line: number;
}

const IP_BYTE = "(?:2(?:5[0-5]|[0-4][0-9])|1[0-9][0-9]|[1-9]?[0-9])";
const PORT = "(?:6(?:5(?:5(?:3[0-5]|[0-2][0-9])|[0-4][0-9][0-9])|[0-4][0-9][0-9][0-9])" +
  "|[1-5][0-9][0-9][0-9][0-9]|[1-9][0-9]?[0-9]?[0-9]?)";
const IPV4 = `${IP_BYTE}\\.${IP_BYTE}\\.${IP_BYTE}\\.${IP_BYTE}(?::${PORT})?`;
const H = "[0-9A-Fa-f]{1,4}";
const V6_PART = `(?:${H}:${H}|${IPV4})`;
/** IPV6_BASE's alternatives, each tried on its own so the longest wins (flex semantics). */
const IPV6_BASES = [
  `(?:${H}:){6}${V6_PART}`,
  `::(?:${H}:){5}${V6_PART}`,
  `(?:${H})?::(?:${H}:){4}${V6_PART}`,
  `(?:(?:${H}:){0,1}${H})?::(?:${H}:){3}${V6_PART}`,
  `(?:(?:${H}:){0,2}${H})?::(?:${H}:){2}${V6_PART}`,
  `(?:(?:${H}:){0,3}${H})?::${H}:${V6_PART}`,
  `(?:(?:${H}:){0,4}${H})?::${V6_PART}`,
  `(?:(?:${H}:){0,5}${H})?::${H}`,
  `(?:(?:${H}:){0,6}${H})?::`,
];
const sticky = (source: string) => new RegExp(source, "y");

/**
 * The token rules of the INITIAL state in scanner.l order (white space, comments, newlines,
 * `/ < >` and strings are handled apart, see scan()), each with the characters it can start with.
 */
const RULES: { kind: TokenKind; first: RegExp; res: RegExp[] }[] = [
  { kind: "TRUE", first: /[tyo]/, res: [sticky("true|yes|on")] },
  { kind: "FALSE", first: /[fno]/, res: [sticky("false|no|off")] },
  { kind: "UNQUOTED", first: /[0-9]/, res: [sticky(IPV4)] },
  {
    kind: "UNQUOTED",
    first: /[0-9A-Fa-f:\[]/,
    res: [...IPV6_BASES.map(sticky), ...IPV6_BASES.map((b) => sticky(`\\[${b}\\](?::${PORT})?`))],
  },
  {
    kind: "NUMBER",
    first: /[0-9+\-.]/,
    res: [
      sticky("[+-]?[0-9]*\\.[0-9]+(?:[eE][+-][0-9]+)?"),
      sticky("0[xX][0-9a-fA-F]+"),
      sticky("0[0-7]+"),
      sticky("[+-]?[0-9]+"),
    ],
  },
];
const QUOTED_RULE = RULES.length; // `\"{QUOTED_STRING}\"` comes after NUMBER...
const UNQUOTED_RE = sticky("[0-9A-Za-z_]+"); // ...then UNQUOTED_STRING, then the ML start.
const LEADING_WHITE = sticky("[ \\t\\b]+");
/** The characters a word, number or address can start with; the one-character tokens. */
const WORD_START = /[0-9A-Za-z_+\-.:\[]/;
const SINGLE: Record<string, TokenKind> = { "/": "SLASH", "<": "OPEN", ">": "CLOSE" };

function longest(re: RegExp, text: string, at: number): number {
  re.lastIndex = at;
  return re.exec(text)?.[0].length ?? 0;
}

/**
 * Where `([^\\"]|\\.)*` starting at each position stops (flex's `.` is any character but a
 * newline): at a quote, at a backslash before a newline, or at the end. Computed once from the
 * right, so a text full of quotes costs linear time, not quadratic.
 */
function stopPositions(text: string): Int32Array {
  const n = text.length;
  const stop = new Int32Array(n + 2);
  stop[n] = n;
  stop[n + 1] = n;
  for (let i = n - 1; i >= 0; i--) {
    const c = text.charCodeAt(i);
    if (c === 0x22) stop[i] = i; // "
    else if (c === 0x5c) { // backslash
      stop[i] = i + 1 >= n || text.charCodeAt(i + 1) === 0x0a ? i : stop[i + 2]!;
    } else stop[i] = stop[i + 1]!;
  }
  return stop;
}

/** Splits collectd.conf text into collectd's tokens. */
export function scan(text: string): Token[] {
  const tokens: Token[] = [];
  const stop = stopPositions(text);
  const n = text.length;
  let line = 1;
  let i = 0;
  /** A quoted string's end after its first character at `from`: [kind, end] or null. */
  const stringEnd = (from: number): ["close" | "continue", number] | null => {
    const k = stop[from]!;
    if (k >= n) return null;
    if (text.charCodeAt(k) === 0x22) return ["close", k + 1];
    return k + 1 < n ? ["continue", k + 2] : null; // backslash + newline
  };
  const advance = (to: number) => {
    for (let p = i; p < to; p++) if (text.charCodeAt(p) === 0x0a) line++;
    i = to;
  };

  while (i < n) {
    // Fast paths with the same outcome as the rules below: white space, newline, comment, and
    // characters no rule can start with.
    const c = text.charCodeAt(i);
    if (c === 0x20 || c === 0x09 || c === 0x08) {
      i++;
      continue;
    }
    if (c === 0x0a) {
      tokens.push({ kind: "EOL", text: "\n", line });
      advance(i + 1);
      continue;
    }
    if (c === 0x23) {
      const eol = text.indexOf("\n", i);
      i = eol < 0 ? n : eol;
      continue;
    }
    if (c === 0x5c) { // a backslash: a line continuation, or unmatched
      advance(text.charCodeAt(i + 1) === 0x0a ? i + 2 : i + 1);
      continue;
    }
    const single = SINGLE[text[i]!];
    if (single !== undefined) {
      tokens.push({ kind: single, text: text[i]!, line });
      i++;
      continue;
    }
    const wordy = WORD_START.test(text[i]!);
    if (!wordy && c !== 0x22) {
      i++;
      continue;
    }
    let best = 0;
    let bestRule = -1;
    for (let r = 0; r < RULES.length && wordy; r++) {
      if (!RULES[r]!.first.test(text[i]!)) continue;
      for (const re of RULES[r]!.res) {
        const len = longest(re, text, i);
        if (len > best) {
          best = len;
          bestRule = r;
        }
      }
    }
    let ml = false;
    if (text.charCodeAt(i) === 0x22) {
      const end = stringEnd(i + 1);
      if (end !== null && end[1] - i > best) {
        best = end[1] - i;
        bestRule = QUOTED_RULE;
        ml = end[0] === "continue";
      }
    }
    const unquoted = wordy ? longest(UNQUOTED_RE, text, i) : 0;
    if (unquoted > best) {
      best = unquoted;
      bestRule = RULES.length + 1;
    }
    if (bestRule < 0) { // no rule matches: flex echoes the character and goes on
      advance(i + 1);
      continue;
    }
    const start = line;
    if (bestRule === QUOTED_RULE && ml) {
      const joined = multiLine(text, i, best, stringEnd);
      advance(joined.end);
      if (joined.text !== null) tokens.push({ kind: "QUOTED", text: joined.text, line: start });
      continue;
    }
    const matched = text.slice(i, i + best);
    advance(i + best);
    if (bestRule === QUOTED_RULE) tokens.push({ kind: "QUOTED", text: matched, line: start });
    else if (bestRule === RULES.length + 1) {
      tokens.push({ kind: "UNQUOTED", text: matched, line: start });
    } else tokens.push({ kind: RULES[bestRule]!.kind, text: matched, line: start });
  }
  return tokens;
}

/**
 * The ML state: a quoted string continued with a backslash at the end of the line. Each next
 * line loses its leading white space; the pieces (without backslash and newline) are joined
 * until one ends with a quote. Characters no ML rule matches are skipped; at the end of the
 * text the unfinished string is dropped (flex's yyterminate). `first` is the opening piece.
 */
function multiLine(
  text: string,
  at: number,
  first: number,
  stringEnd: (from: number) => ["close" | "continue", number] | null,
): { text: string | null; end: number } {
  let joined = text.slice(at, at + first - 2);
  let i = at + first;
  const n = text.length;
  let lineStart = true;
  while (i < n) {
    if (lineStart) {
      lineStart = false;
      const white = longest(LEADING_WHITE, text, i);
      if (white > 0) {
        i += white;
        continue;
      }
    }
    const c = text.charCodeAt(i);
    const end = c === 0x20 || c === 0x09 || c === 0x08 ? null : stringEnd(i + 1);
    if (end === null) { // unmatched: skipped
      if (c === 0x0a) lineStart = true;
      i++;
      continue;
    }
    if (end[0] === "close") return { text: joined + text.slice(i, end[1]), end: end[1] };
    joined += text.slice(i, end[1] - 2);
    i = end[1];
    lineStart = true;
  }
  return { text: null, end: n };
}
