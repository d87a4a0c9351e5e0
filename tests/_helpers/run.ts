export { type Process, start } from "./process.ts";

/** Runs a command to completion; throws with its output when it fails. */
export async function run(
  cmd: string,
  args: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): Promise<string> {
  const out = await new Deno.Command(cmd, {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
    ...(options.cwd ? { cwd: options.cwd } : {}),
    env: { NO_COLOR: "1", ...options.env },
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  if (!out.success) throw new Error(`${cmd} ${args.join(" ")} exited with ${out.code}:\n${text}`);
  return text;
}

/** A systemd-like $NOTIFY_SOCKET receiver bound at `path`. */
export function notifySocket(path: string) {
  const conn = Deno.listenDatagram({ transport: "unixpacket", path });
  const received: string[] = [];
  const done = (async () => {
    try {
      for (;;) {
        const [bytes] = await conn.receive();
        received.push(new TextDecoder().decode(bytes));
      }
    } catch { /* closed */ }
  })();
  return {
    received,
    async waitFor(text: string, timeoutMs = 20_000): Promise<void> {
      const end = Date.now() + timeoutMs;
      while (!received.some((m) => m.split("\n").includes(text))) {
        if (Date.now() > end) {
          throw new Error(
            `no ${text} on $NOTIFY_SOCKET within ${timeoutMs} ms (got ${JSON.stringify(received)})`,
          );
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async close() {
      conn.close();
      await done;
    },
  };
}
