import assert from "node:assert/strict";
import { parseConfig } from "../../src/config/mod.ts";
import { refusalMessage, splitCommandLine } from "../../src/executor/mod.ts";

function argv(line: string): string[] {
  const r = splitCommandLine(line);
  assert.ok(r.ok, `expected "${line}" to split, got ${JSON.stringify(r)}`);
  return r.argv;
}

function refusal(line: string): string {
  const r = splitCommandLine(line);
  assert.ok(!r.ok, `expected "${line}" to be refused, got ${JSON.stringify(r)}`);
  return r.reason;
}

Deno.test("splitCommandLine() splits lua-collectd-monitor's sample commands and drops a trailing 2>&1", () => {
  assert.deepEqual(argv("/bin/systemctl restart nginx 2>&1"), [
    "/bin/systemctl",
    "restart",
    "nginx",
  ]);
  assert.deepEqual(argv('/bin/echo "Hello World!"'), ["/bin/echo", "Hello World!"]);
});

Deno.test("splitCommandLine() follows shell quoting: single quotes literal, double-quote escapes, backslashes", () => {
  assert.deepEqual(argv(`a 'b "c" \\d' "e \\"f\\" \\g" h\\ i ''`), [
    "a",
    'b "c" \\d',
    'e "f" \\g',
    "h i",
    "",
  ]);
  assert.deepEqual(argv("  a\t\tb  "), ["a", "b"]);
  assert.deepEqual(argv("/bin/x a=b c#d x~y"), ["/bin/x", "a=b", "c#d", "x~y"]);
});

Deno.test("splitCommandLine() refuses every kind of shell syntax", () => {
  const cases: [string, RegExp][] = [
    ["/bin/a | /bin/b", /operator "\|"/],
    ["/bin/a; /bin/b", /operator ";"/],
    ["/bin/a && /bin/b", /operator "&"/],
    ["/bin/a > /tmp/x", /operator ">"/],
    ["/bin/a < /tmp/x", /operator "<"/],
    ["/bin/a 2>/dev/null", /operator ">"/],
    ["/bin/echo $(id)", /expansion "\$"/],
    ["/bin/echo $HOME", /expansion "\$"/],
    ['/bin/echo "$HOME"', /expansion "\$" inside double quotes/],
    ["/bin/echo `id`", /expansion "`"/],
    ["/bin/ls /tmp/*", /pattern character "\*"/],
    ["/bin/ls /tmp/?", /pattern character "\?"/],
    ["/bin/ls {a,b}", /pattern character "\{"/],
    ["/bin/ls ~/x", /tilde/],
    ["/bin/a # comment", /comment/],
    ["FOO=1 /bin/a", /environment assignment "FOO="/],
    ["/bin/echo 'open", /unterminated single quote/],
    ['/bin/echo "open', /unterminated double quote/],
    ["   ", /no command/],
  ];
  for (const [line, re] of cases) assert.match(refusal(line), re, line);
});

Deno.test("refusalMessage() shows the argv form to write instead", () => {
  const msg = refusalMessage("/bin/systemctl restart nginx && /bin/echo ok", "shell operator");
  assert.match(msg, /commands run without a shell/);
  assert.match(msg, /\{"Argv": \["\/bin\/systemctl","restart","nginx"\]\}/);
  assert.match(msg, /"\/bin\/sh","-c","\/bin\/systemctl restart nginx && \/bin\/echo ok"/);
});

Deno.test("a shell string in config.json is rejected at load with its path and the argv form", () => {
  const text = JSON.stringify({
    Services: { web: { commands: { restart: "/bin/systemctl restart nginx | /usr/bin/logger" } } },
  });
  assert.throws(() => parseConfig(text, "/etc/edge-agent/config.json"), (e: Error) => {
    assert.match(e.message, /Services\.web\.commands\.restart/);
    assert.match(e.message, /shell operator "\|" at column 30/);
    assert.match(e.message, /\{"Argv": \["\/bin\/systemctl","restart","nginx"\]\}/);
    return true;
  });
});

Deno.test("the explicit form is strict: a misspelled option is an error", () => {
  const text = JSON.stringify({
    Services: { web: { commands: { restart: { Argv: ["/bin/true"], Timout: 5 } } } },
  });
  assert.throws(() => parseConfig(text, "/etc/edge-agent/config.json"), /Timout/);
});
