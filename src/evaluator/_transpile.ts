/**
 * sucrase, loaded on first use ({@linkcode loadTranspiler}): evaluating it costs ~15 ms of the
 * agent's start-up, which is spent after the collectd listener is open instead.
 */
let sucrase: typeof import("sucrase") | null = null;

/** Loads the transpiler once; {@linkcode transpileRule} needs it. */
export async function loadTranspiler(): Promise<void> {
  sucrase ??= await import("sucrase");
}

/** A rule file that cannot be loaded, with the position the operator must look at. */
export class RuleLoadError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly column: number,
    message: string,
  ) {
    super(message);
    this.name = "RuleLoadError";
  }
}

/**
 * The wrapper that turns one transpiled rule file into an ES module the sandbox can load from a
 * `blob:` URL without `eval`: `export default function (require, module, exports) { ... }`.
 * The prefix sits on the file's first line, so line numbers in stacks are the source's.
 */
export const MODULE_PREFIX = "export default function (require, module, exports) {";
const MODULE_SUFFIX = "\n}\n";

/**
 * `import(` / `import.` left in the output. sucrase turns every import declaration and dynamic
 * `import()` into `require()`, so anything left is a construct the sandbox refuses rather than
 * trusting a second parser to agree (module loading is the one door the worker's permissions
 * do not close). Conservative: a string or comment holding `import(` is refused as well.
 */
const LEFTOVER_IMPORT = /\bimport\s*(?:\(|\.|\/[*/])/;

/**
 * Strips the TypeScript of a rule file and converts its imports to `require()` calls (resolved
 * in the sandbox against sibling files only). Throws {@linkcode RuleLoadError} with the line and
 * column of a syntax error. Pure: `file` only names the source in errors. Call (and await)
 * {@linkcode loadTranspiler} first.
 */
export function transpileRule(source: string, file: string): string {
  if (sucrase === null) throw new TypeError("transpileRule() called before loadTranspiler()");
  let code: string;
  try {
    code =
      sucrase.transform(source, { transforms: ["typescript", "imports"], filePath: file }).code;
  } catch (e) {
    const loc = (e as { loc?: { line: number; column: number } }).loc;
    const why = (e as Error).message.replace(/^Error transforming [^:]*: /, "")
      .replace(/ \(\d+:\d+\)$/, "");
    throw new RuleLoadError(
      file,
      loc?.line ?? 1,
      loc?.column ?? 1, // sucrase's column is already 1-based
      `syntax error: ${why}`,
    );
  }
  const leftover = LEFTOVER_IMPORT.exec(code);
  if (leftover) {
    const line = code.slice(0, leftover.index).split("\n").length;
    throw new RuleLoadError(
      file,
      line,
      1,
      "import() and import.meta are not available to rules (not even inside a string or " +
        'comment): import sibling rule files with a static `import ... from "./name.ts"`',
    );
  }
  return MODULE_PREFIX + code + MODULE_SUFFIX;
}

/**
 * The 1-based line where a rule exports `name` (`metrics`/`notifications`), or where `member`
 * of that export is defined; 1 when not found.
 */
export function exportLine(source: string, name: string, member?: string): number {
  const lines = source.split("\n");
  const at = lines.findIndex((l) => new RegExp(`\\bexport\\b.*\\b${name}\\b`).test(l));
  if (member === undefined) return at < 0 ? 1 : at + 1;
  const key = new RegExp(`(^|[\\s,{])["']?${member.replace(/[^\w$]/g, "\\$&")}["']?\\s*[:(]`);
  const found = lines.findIndex((l, i) => i >= Math.max(at, 0) && key.test(l));
  return found < 0 ? (at < 0 ? 1 : at + 1) : found + 1;
}
