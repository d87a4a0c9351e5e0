import { fileURLToPath as fromFileUrl } from "node:url";
import type { LogFields, Logger, LogLevel } from "../../src/model/mod.ts";
import { HOST_V8_FLAGS, type HostCommand } from "../../src/evaluator/mod.ts";
import { encodeValueList } from "../../src/collectd/mod.ts";

const root = new URL("../../", import.meta.url);

/** The rule host started the production way, from the test entry instead of main.ts. */
export function testHostCommand(): HostCommand {
  return {
    cmd: Deno.execPath(),
    args: [
      "run",
      "--quiet",
      "--no-prompt",
      "--unstable-worker-options",
      `--v8-flags=${HOST_V8_FLAGS}`,
      "--config",
      fromFileUrl(new URL("deno.json", root)),
      fromFileUrl(new URL("_host_entry.ts", import.meta.url)),
    ],
  };
}

/** One captured log event. */
export interface Logged {
  level: LogLevel;
  msg: string;
  fields: LogFields | undefined;
}

/** A logger that keeps every event in `lines`. */
export function memoryLogger(): Logger & { lines: Logged[]; text(): string } {
  const lines: Logged[] = [];
  const make = (): Logger => {
    const at = (level: LogLevel) => (msg: string, fields?: LogFields) =>
      void lines.push({ level, msg, fields });
    return {
      fatal: at("fatal"),
      error: at("error"),
      warn: at("warn"),
      info: at("info"),
      debug: at("debug"),
      enabled: () => true,
      child: () => make(),
    };
  };
  return Object.assign(make(), {
    lines,
    text: () =>
      lines.map((l) => `${l.level} ${l.msg} ${JSON.stringify(l.fields ?? {})}`).join("\n"),
  });
}

/** A temporary rules directory holding `files` (name → source). */
export async function rulesDir(files: Record<string, string>): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "edge-agent-rules-" });
  for (const [name, text] of Object.entries(files)) {
    await Deno.writeTextFile(`${dir}/${name}`, text);
  }
  return dir;
}

/** {@linkcode metric}'s value list as a collectd packet (time 1_700_000_100 unless given). */
export function packet(fields: Record<string, unknown> = {}): Uint8Array {
  return encodeValueList(
    metric({ time: 1_700_000_100, ...fields }) as Parameters<typeof encodeValueList>[0],
  );
}

/** A metric with defaults for everything not given. */
export function metric(fields: Record<string, unknown> = {}) {
  return {
    host: "web1",
    plugin: "memory",
    plugin_instance: "",
    type: "memory",
    type_instance: "free",
    time: 1_700_000_000,
    interval: 10,
    values: [1e9],
    dstypes: ["gauge" as const],
    dsnames: ["value"],
    rates: [null],
    ...fields,
  };
}
