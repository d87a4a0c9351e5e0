// Run by tests/executor/permissions_test.ts under a restricted --allow-run list: a command whose
// shell and grandchild ignore SIGTERM times out; prints the outcome and the warnings.
import { CLEAN_ENV, createProcessRunner } from "../../../../src/executor/mod.ts";

const warnings: string[] = [];
const outcome = await createProcessRunner({ graceMs: 300, onWarning: (m) => warnings.push(m) })
  .run({
    argv: ["/bin/sh", "-c", `trap '' TERM; /bin/sleep ${Deno.args[0]} & echo started; wait`],
    env: { ...CLEAN_ENV },
    timeoutMs: 300,
  });
console.log(JSON.stringify({ outcome, warnings }));
