/** Where JSON text first goes wrong, for an operator-facing "line L, column C" message. */
export interface JsonErrorLocation {
  line: number;
  column: number;
  message: string;
}

/** Something JSON.parse accepts silently but a config must not hold. */
export interface JsonProblem {
  /** JSON path of the key or value, e.g. `["Services", "web"]`. */
  path: (string | number)[];
  line: number;
  column: number;
  message: string;
}

/** Longest config key (service, command, environment names...). */
export const MAX_CONFIG_KEY = 128;
/** Longest config string value (a path, a command line, a secret, a topic). */
export const MAX_CONFIG_STRING = 4096;

/**
 * Scans `text` as strict JSON (RFC 8259) and returns the location of the first error, or null
 * when it is valid. Used only after JSON.parse failed, whose message does not always carry a
 * position.
 */
export function locateJsonError(text: string): JsonErrorLocation | null {
  try {
    scan(text, {});
    return null;
  } catch (e) {
    if (!(e instanceof JsonScanError)) throw e;
    return { ...position(text, e.offset), message: e.message };
  }
}

/**
 * What valid JSON `text` holds that JSON.parse would let through: a key given twice in one
 * object (JSON.parse keeps the last one silently), a key longer than {@linkcode MAX_CONFIG_KEY}
 * or a string longer than {@linkcode MAX_CONFIG_STRING} characters. Each with its line and column.
 */
export function findJsonProblems(text: string): JsonProblem[] {
  const problems: JsonProblem[] = [];
  const at = (offset: number) => position(text, offset);
  scan(text, {
    key(path, key, offset, first) {
      if (key.length > MAX_CONFIG_KEY) {
        problems.push({
          path: [...path, key.slice(0, 40) + "…"],
          ...at(offset),
          message: `key of ${key.length} characters: longer than the maximum of ${MAX_CONFIG_KEY}`,
        });
      } else if (first !== undefined) {
        const f = at(first);
        problems.push({
          path: [...path, key],
          ...at(offset),
          message: `duplicate key (also at line ${f.line}, column ${f.column}): JSON would ` +
            "silently keep only the last one; keep one",
        });
      }
    },
    string(path, length, offset) {
      if (length > MAX_CONFIG_STRING) {
        problems.push({
          path: [...path],
          ...at(offset),
          message:
            `string of ${length} characters: longer than the maximum of ${MAX_CONFIG_STRING}`,
        });
      }
    },
  });
  return problems;
}

/** What {@linkcode scan} reports while it walks valid JSON. */
interface ScanHooks {
  /** A key of the object at `path`; `first`: where the same key was seen in it before. */
  key?(path: (string | number)[], key: string, offset: number, first: number | undefined): void;
  /** A string value at `path` with its length in characters (escapes decoded). */
  string?(path: (string | number)[], length: number, offset: number): void;
}

function position(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  return { line: before.split("\n").length, column: offset - before.lastIndexOf("\n") };
}

/** Walks `text` as strict JSON, calling `hooks`; throws JsonScanError at the first error. */
function scan(text: string, hooks: ScanHooks): void {
  let i = 0;
  const path: (string | number)[] = [];
  const fail = (message: string): never => {
    throw new JsonScanError(i, message);
  };
  const ws = () => {
    while (i < text.length && " \t\n\r".includes(text[i]!)) i++;
  };
  const describe = () => i >= text.length ? "end of input" : JSON.stringify(text[i]);
  const literal = (word: string) => {
    if (text.startsWith(word, i)) i += word.length;
    else fail(`unexpected ${describe()}`);
  };
  /** Reads a string; returns its text (decoded only when asked). */
  const string = (decode: boolean): string => {
    const start = i;
    i++; // opening quote
    while (i < text.length) {
      const ch = text[i]!;
      if (ch === '"') {
        i++;
        return decode ? JSON.parse(text.slice(start, i)) : "";
      }
      if (ch === "\\") {
        i++;
        const esc = text[i];
        if (esc === "u") {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) fail("bad \\u escape");
          i += 5;
        } else if (esc !== undefined && '"\\/bfnrt'.includes(esc)) i++;
        else fail("bad escape in string");
      } else if (ch.charCodeAt(0) < 0x20) {
        fail("control character (e.g. a raw newline) inside a string");
      } else i++;
    }
    return fail("unterminated string");
  };
  const number = () => {
    const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(text.slice(i, i + 400));
    if (!m || m[0] === "" || m[0] === "-") fail(`unexpected ${describe()}`);
    i += m![0].length;
  };
  const value = (): void => {
    ws();
    const ch = text[i];
    if (ch === "{") {
      i++;
      ws();
      if (text[i] === "}") {
        i++;
        return;
      }
      const keys = new Map<string, number>();
      for (;;) {
        ws();
        if (text[i] !== '"') fail(`expected a double-quoted key, found ${describe()}`);
        const at = i;
        const key = string(hooks.key !== undefined);
        if (hooks.key) {
          hooks.key(path, key, at, keys.get(key));
          if (!keys.has(key)) keys.set(key, at);
        }
        ws();
        if (text[i] !== ":") fail(`expected ':' after the key, found ${describe()}`);
        i++;
        path.push(key);
        value();
        path.pop();
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "}") {
          i++;
          return;
        }
        fail(`expected ',' or '}', found ${describe()}`);
      }
    } else if (ch === "[") {
      i++;
      ws();
      if (text[i] === "]") {
        i++;
        return;
      }
      for (let n = 0;; n++) {
        path.push(n);
        value();
        path.pop();
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "]") {
          i++;
          return;
        }
        fail(`expected ',' or ']', found ${describe()}`);
      }
    } else if (ch === '"') {
      const at = i;
      string(false);
      // The raw text is never shorter than the decoded string: decode only when it may be long.
      if (hooks.string && i - at - 2 > MAX_CONFIG_STRING) {
        hooks.string(path, (JSON.parse(text.slice(at, i)) as string).length, at);
      }
    } else if (ch === "t") literal("true");
    else if (ch === "f") literal("false");
    else if (ch === "n") literal("null");
    else if (ch === "-" || (ch !== undefined && ch >= "0" && ch <= "9")) number();
    else fail(`unexpected ${describe()}`);
  };
  value();
  ws();
  if (i < text.length) fail(`unexpected ${describe()} after the end of the JSON value`);
}

class JsonScanError extends Error {
  constructor(readonly offset: number, message: string) {
    super(message);
  }
}
