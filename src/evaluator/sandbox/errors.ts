/**
 * What the agent is told about an error of rule code: stacks name rule files
 * (`file.ts:line:column` of the source), never a module's `blob:`/`data:` URL or a glue frame,
 * and a message never shows an internal URL. No user code runs outside try/catch here (a
 * rule's `toString` runs at most once: {@linkcode safeString}).
 * @module
 */
import type { CallSite, Glue } from "./enclose.ts";

/** An error (or thrown value) as the agent is told about it. */
export interface Described {
  message: string;
  stack: string;
  line: number | undefined;
  file: string | undefined;
}

interface RuleFrame {
  fn: string | null;
  file: string;
  line: number | null;
  column: number | null;
}

/** A module URL from `Glue.moduleUrl` (as it shows in stacks and messages). */
const BLOB_URL = /blob:null\/[0-9a-f-]{36}/g;

/**
 * The describer of one worker: installs `glue`'s stack formatter (once, before any rule
 * exists). `name(url, file)` tells it which rule file a module URL holds.
 */
export function createDescriber(glue: Glue) {
  const urlFile = new Map<string, string>();
  const files = new Set<string>();
  const frames = new WeakMap<object, RuleFrame[]>();

  glue.setStackMapper((err, callSites) => {
    const where = ruleFrames(callSites);
    if (typeof err === "object" && err !== null) frames.set(err, where);
    const e = err as { name?: unknown; message?: unknown } | null;
    const head = `${safeString(e?.name ?? "Error")}: ${safeString(e?.message ?? err)}`;
    return [
      head,
      ...where.map((w) => `    at ${w.fn ?? "<anonymous>"} (${w.file}:${w.line}:${w.column})`),
    ]
      .join("\n");
  });

  /** The call sites in rule files (the glue's own frames left out). */
  function ruleFrames(callSites: CallSite[]): RuleFrame[] {
    const where: RuleFrame[] = [];
    for (const f of callSites) {
      const file = urlFile.get(String(f.getFileName()));
      if (file !== undefined) {
        where.push({
          fn: f.getFunctionName(),
          file,
          line: f.getLineNumber(),
          column: f.getColumnNumber(),
        });
      }
    }
    return where;
  }

  /** `text` with every module URL replaced by its rule file's name. */
  function unurl(text: string): string {
    if (!text.includes("blob:") && !text.includes("data:")) return text;
    return text.replace(BLOB_URL, (url) => urlFile.get(url) ?? "<sandbox>")
      .replace(/data:text\/javascript\S*/g, "<sandbox>");
  }

  /** What the agent is told about a thrown value (no user code runs outside try/catch). */
  function describe(e: unknown): Described {
    if (e instanceof Error) {
      const stack = unurl(safeString(e.stack));
      const frame = frames.get(e)?.[0];
      let message = unurl(`${safeString(e.name)}: ${safeString(e.message)}`);
      let line = frame?.line ?? undefined;
      let file = frame?.file;
      // A module that does not compile (V8 names the place in the message).
      const at = /\(?([A-Za-z0-9_.@-]+\.ts):(\d+):(\d+)\)?$/.exec(message);
      if (at && files.has(at[1]!)) {
        file = at[1]!;
        line = Number(at[2]);
        message = message.slice(0, at.index).trimEnd().replace(/\s+at$/, "");
      }
      if (/await is only valid|Unexpected reserved word/.test(message)) {
        message += " (top-level await is not available in rule files: a rule file is loaded " +
          "synchronously and handlers are synchronous)";
      }
      return { message, stack, line, file };
    }
    return {
      message: `threw a non-Error value: ${safeString(e)}`,
      stack: "",
      line: undefined,
      file: undefined,
    };
  }

  return {
    /** Module URL `url` holds rule file `file`. */
    name(url: string, file: string): void {
      urlFile.set(url, file);
      files.add(file);
    },
    describe,
  };
}

/** What {@linkcode createDescriber} returns. */
export type Describer = ReturnType<typeof createDescriber>;

/** `String(v)` that never throws and never runs a rule's `toString` more than once. */
export function safeString(v: unknown): string {
  if (typeof v === "string") return v;
  try {
    return String(v);
  } catch {
    return `[${typeof v}]`;
  }
}
