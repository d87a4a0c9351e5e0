/**
 * The text of the file `path`, or of standard input when `path` is `-`. Standard input needs no
 * read permission: with the binary's least-privilege flags it is the way to hand a file from
 * outside the granted folders to `test-rule --replay` or `send-config`.
 */
export async function readTextInput(path: string): Promise<string> {
  if (path !== "-") return await Deno.readTextFile(path);
  return await new Response(Deno.stdin.readable).text();
}

/** How error messages name `path` (`-` reads as "standard input"). */
export function inputName(path: string): string {
  return path === "-" ? "standard input" : path;
}
