/** A rule host that says it is ready, then dies on its first request (tests the agent side). */
import { encodeFrame } from "../../src/evaluator/_frames.ts";

Deno.stdout.writeSync(encodeFrame({ t: "ready" }));
const reader = Deno.stdin.readable.getReader();
await reader.read(); // configure (and maybe load): dies before answering anything
Deno.exit(9);
