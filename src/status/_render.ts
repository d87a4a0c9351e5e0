/**
 * A small text document (sections of labelled fields and tables) and its two renderings: for a
 * terminal (colour, aligned columns, a header row) and plain (no escape codes, no padding: one
 * `label: value` per line, table rows with cells two spaces apart, easy to grep).
 * @module
 */

/** How a value is coloured on a terminal. */
export type Tone = "ok" | "warn" | "bad" | "dim" | "none";

/** One part of the document. */
export type Block =
  | { t: "title"; text: string; tone?: Tone }
  | { t: "field"; label: string; lines: string[]; tone?: Tone }
  | {
    t: "table";
    label: string;
    head: string[];
    rows: { cells: string[]; tone?: Tone }[];
    /** Shown instead of an empty table. */
    empty: string;
  };

const SGR: Record<Tone | "bold", string> = {
  ok: "\x1b[32m",
  warn: "\x1b[33m",
  bad: "\x1b[1;31m",
  dim: "\x1b[2m",
  none: "",
  bold: "\x1b[1m",
};
const RESET = "\x1b[0m";

/** Options of {@linkcode render}. */
export interface RenderOptions {
  /** Aligned columns and header rows (a terminal). */
  align: boolean;
  /** ANSI colours (a terminal without NO_COLOR). */
  color: boolean;
}

/** The document as text, one block after the other; sections start at each title. */
export function render(blocks: readonly Block[], options: RenderOptions): string {
  const paint = (text: string, tone: Tone | "bold" = "none") =>
    options.color && tone !== "none" && text !== "" ? `${SGR[tone]}${text}${RESET}` : text;
  const width = labelWidth(blocks);
  const out: string[] = [];
  for (const b of blocks) {
    if (b.t === "title") {
      if (out.length) out.push("");
      out.push(paint(b.text, b.tone && b.tone !== "none" ? b.tone : "bold"));
    } else if (b.t === "field") {
      const label = options.align ? `  ${b.label.padEnd(width)}  ` : `  ${b.label}: `;
      const indent = options.align ? " ".repeat(width + 4) : "    ";
      b.lines.forEach((line, i) => out.push((i === 0 ? label : indent) + paint(line, b.tone)));
    } else if (b.rows.length === 0) {
      const label = options.align ? `  ${b.label.padEnd(width)}  ` : `  ${b.label}: `;
      out.push(label + paint(b.empty, "dim"));
    } else {
      out.push(options.align ? `  ${b.label}` : `  ${b.label}:`);
      out.push(...table(b, options, paint));
    }
  }
  return out.join("\n") + "\n";
}

function table(
  b: Extract<Block, { t: "table" }>,
  options: RenderOptions,
  paint: (text: string, tone?: Tone | "bold") => string,
): string[] {
  if (!options.align) {
    return b.rows.map((r) => "    " + paint(r.cells.filter((c) => c !== "").join("  "), r.tone));
  }
  const widths = b.head.map((h, i) =>
    Math.max(h.length, ...b.rows.map((r) => (r.cells[i] ?? "").length))
  );
  // the last column is not padded (no trailing blanks)
  const line = (cells: string[]) =>
    cells.map((c, i) => i === cells.length - 1 ? c : c.padEnd(widths[i]!)).join("  ").trimEnd();
  return [
    "    " + paint(line(b.head), "dim"),
    ...b.rows.map((r) => "    " + paint(line(r.cells), r.tone)),
  ];
}

/** The widest field label of the document (labels of empty tables included). */
function labelWidth(blocks: readonly Block[]): number {
  let w = 0;
  for (const b of blocks) {
    if (b.t === "field" || (b.t === "table" && b.rows.length === 0)) {
      w = Math.max(w, b.label.length);
    }
  }
  return w;
}
