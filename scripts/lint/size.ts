/**
 * A `deno lint` plugin (deno.json "lint.plugins") holding src/ to the size the layout asks for
 * (docs/development.md): no function over MAX_FUNCTION_LINES lines and no file over
 * MAX_FILE_LINES. Generated files (`_sandbox_source.ts`) and everything outside src/ are exempt.
 * @module
 */

/** Longest function (declaration, expression, arrow, method), in lines. */
export const MAX_FUNCTION_LINES = 120;
/** Longest source file, in lines. */
export const MAX_FILE_LINES = 400;

const GENERATED = /\/_sandbox_source\.ts$/;

function inScope(filename: string): boolean {
  return /(^|\/)src\//.test(filename) && !GENERATED.test(filename);
}

function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let i = text.indexOf("\n"); i !== -1 && i < offset; i = text.indexOf("\n", i + 1)) line++;
  return line;
}

const plugin: Deno.lint.Plugin = {
  name: "edge-agent",
  rules: {
    "max-function-lines": {
      create(context) {
        if (!inScope(context.filename)) return {};
        const check = (node: Deno.lint.Node) => {
          const text = context.sourceCode.text;
          const lines = lineOf(text, node.range[1]) - lineOf(text, node.range[0]) + 1;
          if (lines > MAX_FUNCTION_LINES) {
            context.report({
              node,
              message: `this function has ${lines} lines (at most ${MAX_FUNCTION_LINES}): ` +
                "split it by responsibility",
            });
          }
        };
        return {
          FunctionDeclaration: check,
          FunctionExpression: check,
          ArrowFunctionExpression: check,
        };
      },
    },
    "max-file-lines": {
      create(context) {
        if (!inScope(context.filename)) return {};
        return {
          Program(node) {
            const lines = context.sourceCode.text.split("\n").length - 1;
            if (lines > MAX_FILE_LINES) {
              context.report({
                node,
                message: `this file has ${lines} lines (at most ${MAX_FILE_LINES}): split it`,
              });
            }
          },
        };
      },
    },
  },
};
export default plugin;
