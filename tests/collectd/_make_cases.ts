/**
 * Writes the synthetic golden cases' packet.bin/security.json (run once; the outputs are
 * committed): `scripts/deno run -A tests/collectd/_make_cases.ts`. Real-collectd cases were
 * captured from collectd 5.12 (see the e2e test) and are not generated here.
 */
import {
  encodeNotification,
  encodeValueList,
  encryptPacket,
  signPacket,
} from "../../src/collectd/mod.ts";
import type { Metric } from "../../src/model/mod.ts";
import { TESTDATA } from "./_golden.ts";

const T = 1795440000.5;
const base = {
  host: "h1",
  plugin: "cpu",
  plugin_instance: "0",
  type: "cpu",
  type_instance: "user",
  time: T,
  interval: 10,
  values: [12345] as Metric["values"],
  dstypes: ["derive"] as Metric["dstypes"],
};

function part(type: number, payload: Uint8Array | number[]): Uint8Array {
  const p = payload instanceof Uint8Array ? payload : new Uint8Array(payload);
  const out = new Uint8Array(4 + p.length);
  new DataView(out.buffer).setUint16(0, type);
  new DataView(out.buffer).setUint16(2, 4 + p.length);
  out.set(p, 4);
  return out;
}
function raw(type: number, len: number, payload: number[] = []): Uint8Array {
  const out = new Uint8Array(4 + payload.length);
  new DataView(out.buffer).setUint16(0, type);
  new DataView(out.buffer).setUint16(2, len);
  out.set(payload, 4);
  return out;
}
const str = (type: number, s: string) => part(type, [...new TextEncoder().encode(s), 0]);
function num(type: number, v: bigint): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, v);
  return part(type, b);
}
const cat = (...ps: Uint8Array[]) => {
  const out = new Uint8Array(ps.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of ps) out.set(p, o), o += p.length;
  return out;
};
const vl = (m: Partial<typeof base> = {}) => encodeValueList({ ...base, ...m });
const head = cat(str(0, "h1"), num(8, BigInt(T * 2 ** 30)), str(2, "cpu"), str(4, "cpu"));
const AUTH = "# users\nalice: secret\n  bob:  pass:word\n";

const cases: Record<string, { packet: Uint8Array; level?: string; auth?: boolean }> = {
  all_value_types: {
    packet: encodeValueList({
      ...base,
      plugin: "test",
      type: "x4",
      values: [2n ** 64n - 1n, 1.5, -(2n ** 63n), 9007199254740993n],
      dstypes: ["counter", "gauge", "derive", "absolute"],
    }),
  },
  safe_64bit_values_are_numbers: {
    packet: encodeValueList({
      ...base,
      plugin: "test",
      type: "x4",
      values: [2 ** 53 - 1, -0.25, -(2 ** 53) + 1, 0],
      dstypes: ["counter", "gauge", "derive", "absolute"],
    }),
  },
  seconds_time_and_interval: { packet: encodeValueList(base, { timeForm: "seconds" }) },
  delta_encoding_clears_plugin_instance: {
    packet: cat(
      vl(),
      str(3, ""),
      str(5, "system"),
      part(6, [0, 1, 2, 0, 0, 0, 0, 0, 0, 0, 7]),
    ),
  },
  load_dsnames: {
    packet: encodeValueList({
      ...base,
      plugin: "load",
      plugin_instance: "",
      type: "load",
      type_instance: "",
      values: [0.5, 0.25, 0.125],
      dstypes: ["gauge", "gauge", "gauge"],
    }),
  },
  notification: {
    packet: encodeNotification({
      host: "h1",
      plugin: "memory",
      plugin_instance: "",
      type: "memory",
      type_instance: "used",
      time: T,
      severity: 2,
      message: "memory used above 1",
    }),
  },
  notification_unknown_severity: {
    packet: cat(head, num(0x101, 3n), str(0x100, "x")),
  },
  notification_without_time: {
    packet: cat(str(0, "h1"), num(0x101, 1n), str(0x100, "x")),
  },
  notification_empty_message: { packet: cat(head, num(0x101, 4n), str(0x100, "")) },
  unknown_part_is_skipped: { packet: cat(part(0x7777, [1, 2, 3, 4, 5]), vl()) },
  unknown_type_positional_names: {
    packet: encodeValueList({
      ...base,
      type: "no_such_type",
      values: [1, 2],
      dstypes: ["gauge", "gauge"],
    }),
  },
  types_db_count_mismatch: {
    packet: encodeValueList({ ...base, type: "load", values: [1], dstypes: ["gauge"] }),
  },
  incomplete_value_list_without_host: { packet: vl().subarray(7) },
  part_length_past_end: { packet: cat(vl(), raw(0, 200, [65, 0])) },
  zero_length_part: { packet: cat(vl(), raw(0x7777, 0, [0, 0, 0, 0]), vl()) },
  length_below_header: { packet: cat(raw(2, 3, [0, 0, 0, 0, 0]), vl()) },
  garbage_after_valid_part: { packet: cat(vl(), new Uint8Array([1, 2, 3])) },
  string_without_nul: { packet: cat(vl(), part(2, [65, 66]), vl()) },
  string_part_of_length_4: { packet: cat(vl(), raw(2, 4, [0, 0, 0, 0]), vl()) },
  string_too_long: { packet: cat(vl(), str(0, "h".repeat(128)), vl()) },
  message_too_long: { packet: cat(head, num(0x101, 1n), str(0x100, "m".repeat(256))) },
  issue_4415_number_part_length_4: { packet: cat(vl(), raw(1, 4, []), vl()) },
  issue_4415_number_part_length_20: {
    packet: cat(vl(), raw(8, 20, [0, 0, 0, 0, 0, 0, 0, 1, 0, 6, 0, 15, 0, 1, 1, 0]), vl()),
  },
  values_count_disagrees_with_length: {
    packet: cat(
      head,
      part(6, [0, 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
    ),
  },
  values_absurd_count: { packet: cat(head, part(6, [0xff, 0xff, 1, 0, 0, 0, 0, 0, 0, 0, 0])) },
  values_unknown_ds_type: { packet: cat(head, part(6, [0, 1, 7, 0, 0, 0, 0, 0, 0, 0, 0])) },
  values_zero_count: { packet: cat(head, part(6, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])) },
  cve_2016_6254_skipped_parts_reduce_remaining: {
    packet: cat(part(0x7777, new Uint8Array(40)), raw(0, 60, [65, 0])),
  },
  cve_2016_6254_sign_level_skipped_parts: {
    packet: cat(vl(), raw(0, 60, [65, 0])),
    level: "Sign",
    auth: true,
  },
  cve_2017_7401_signature_without_auth_file_is_skipped: {
    packet: signPacket(vl(), "alice", "secret"),
  },
  cve_2017_7401_short_signature_without_auth_file: {
    packet: cat(raw(0x200, 4, []), vl()),
  },
  signed_none_level: { packet: signPacket(vl(), "alice", "secret"), auth: true },
  signed_sign_level: { packet: signPacket(vl(), "bob", "pass:word"), level: "Sign", auth: true },
  signed_wrong_password: { packet: signPacket(vl(), "alice", "wrong"), level: "Sign", auth: true },
  signed_unknown_user: { packet: signPacket(vl(), "mallory", "x"), level: "Sign", auth: true },
  signed_at_encrypt_level: {
    packet: signPacket(vl(), "alice", "secret"),
    level: "Encrypt",
    auth: true,
  },
  unsigned_at_sign_level: { packet: vl(), level: "Sign", auth: true },
  plain_then_signed_none_level: {
    packet: cat(vl({ host: "plain" }), signPacket(vl(), "alice", "secret")),
    auth: true,
  },
  encrypted_encrypt_level: {
    packet: encryptPacket(vl(), "alice", "secret", new Uint8Array(16).fill(7)),
    level: "Encrypt",
    auth: true,
  },
  encrypted_sign_level: {
    packet: encryptPacket(vl(), "alice", "secret", new Uint8Array(16).fill(7)),
    level: "Sign",
    auth: true,
  },
  encrypted_without_auth_file: {
    packet: cat(vl(), encryptPacket(vl(), "alice", "secret", new Uint8Array(16).fill(7)), vl()),
  },
  encrypted_wrong_password: {
    packet: encryptPacket(vl(), "alice", "nope", new Uint8Array(16).fill(7)),
    level: "Encrypt",
    auth: true,
  },
  encrypted_corrupted_payload: {
    packet: (() => {
      const p = encryptPacket(vl(), "alice", "secret", new Uint8Array(16).fill(7));
      p[p.length - 3]! ^= 0x55;
      return p;
    })(),
    level: "Encrypt",
    auth: true,
  },
  encrypted_bad_user_length: {
    packet: (() => {
      const p = encryptPacket(vl(), "alice", "secret", new Uint8Array(16).fill(7));
      new DataView(p.buffer).setUint16(4, 60000);
      return p;
    })(),
    level: "Encrypt",
    auth: true,
  },
  encrypted_then_plain_keeps_outer_state: {
    packet: cat(
      str(0, "outer"),
      encryptPacket(vl(), "alice", "secret", new Uint8Array(16).fill(7)),
      vl({ host: "outer" }).subarray(10),
    ),
    auth: true,
  },
  signed_inside_encrypted: {
    packet: encryptPacket(
      signPacket(vl(), "alice", "secret"),
      "alice",
      "secret",
      new Uint8Array(16).fill(1),
    ),
    level: "Encrypt",
    auth: true,
  },
  nested_encryption_too_deep: {
    packet: encryptPacket(
      encryptPacket(
        encryptPacket(vl(), "alice", "secret", new Uint8Array(16)),
        "alice",
        "secret",
        new Uint8Array(16),
      ),
      "alice",
      "secret",
      new Uint8Array(16),
    ),
    level: "Encrypt",
    auth: true,
  },
  many_value_lists_delta_encoded: {
    packet: (() => {
      const ps: Uint8Array[] = [vl()];
      for (const ti of ["system", "idle", "wait"]) {
        ps.push(str(5, ti), part(6, [0, 1, 2, 0, 0, 0, 0, 0, 0, 1, 0]));
      }
      return cat(...ps);
    })(),
  },
};

// A type for all four value types, added to the test types.db.
for (const [name, c] of Object.entries(cases)) {
  const dir = new URL(`${name}/`, TESTDATA);
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeFile(new URL("packet.bin", dir), c.packet);
  if (c.level || c.auth) {
    await Deno.writeTextFile(
      new URL("security.json", dir),
      JSON.stringify({ level: c.level ?? "None", authFile: c.auth ? AUTH : null }, null, 2) + "\n",
    );
  }
}
console.log(Object.keys(cases).length, "cases written");
