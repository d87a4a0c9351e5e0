// Run by tests/executor/permissions_test.ts with --allow-run=/bin/echo and NO --allow-read.
import { checkServices } from "../../../../src/executor/mod.ts";

const r = checkServices({
  hello: { commands: { exec: "/bin/echo hi", bare: "echo hi", nap: "/bin/sleep 1" } },
});
console.log(JSON.stringify({
  problems: r.problems.map((p) => p.path),
  argv: Object.fromEntries([...r.services.get("hello")!].map(([k, c]) => [k, c.argv])),
}));
