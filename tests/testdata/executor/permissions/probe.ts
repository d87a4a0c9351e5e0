// Run by tests/executor/permissions_test.ts under `--allow-run=/bin/echo` only.
import { createCounters } from "../../../../src/model/mod.ts";
import { createLogger } from "../../../../src/log/mod.ts";
import { checkServices, createExecutor, createProcessRunner } from "../../../../src/executor/mod.ts";

const { problems } = checkServices({
  hello: { commands: { exec: '/bin/echo "Hello World!"', nap: "/bin/sleep 1" } },
});
const direct = await createProcessRunner().run({ argv: ["/bin/sleep", "1"], env: {}, timeoutMs: 1000 });
const executor = createExecutor({ hello: { commands: { exec: '/bin/echo "Hello World!"' } } }, {
  logger: createLogger({ sink: () => {} }),
  counters: createCounters(),
  stateDir: Deno.args[0]!,
  reporters: [],
});
await executor.start();
const rec = await executor.run({ service: "hello", command: "exec", trigger: { kind: "cli" } });
await executor.stop();
console.log(JSON.stringify({ problems, direct, result: rec.result }));
