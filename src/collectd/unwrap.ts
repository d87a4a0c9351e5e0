import {
  DsCode,
  HEADER_SIZE,
  MAX_MESSAGE,
  MAX_NAME,
  NUMBER_PART_SIZE,
  Part,
  SIGN_HEADER_SIZE,
} from "./_protocol.ts";
import type { AuthUsers } from "./auth_file.ts";
import { decryptPart, type SecurityFailure, verifySignature } from "./security.ts";

/** collectd's `SecurityLevel`. */
export type SecurityLevel = "None" | "Sign" | "Encrypt";

/** Why the intake dropped (part of) a datagram. */
export const INTAKE_DROP_REASONS = [
  "truncated",
  "bad_part_length",
  "bad_string",
  "bad_number",
  "bad_values",
  "bad_security_part",
  "unknown_user",
  "bad_signature",
  "bad_encryption",
  "no_auth_file",
  "unsigned",
  "unencrypted",
  "nesting_too_deep",
] as const;
export type IntakeDropReason = typeof INTAKE_DROP_REASONS[number];

/** Where {@linkcode unwrapPacket} puts its results. */
export interface UnwrapSink {
  /** Accepted plaintext, structurally valid, to be decoded with fresh delta state. */
  segment(plain: Uint8Array, values: number): void;
  /** (Part of) the datagram was refused; `values` = values it held, where known. */
  drop(reason: IntakeDropReason, values: number): void;
}

/** Signature/encryption parts may be nested at most this deep (collectd needs 2). */
export const MAX_NESTING = 2;
const SIGNED = 1;
const ENCRYPTED = 2;

/**
 * Applies collectd's security semantics to one datagram (collectd 5.12 `parse_packet` with its
 * `SecurityLevel`) and validates every part's structure, without decoding values:
 * - `None` accepts plain parts; a signature is verified when there is an AuthFile (without one it
 *   is accepted unverified, CVE-2017-7401 fixed form); an encryption part is decrypted (without
 *   an AuthFile: refused).
 * - `Sign` accepts only parts inside a valid signature or encryption; `Encrypt` only parts
 *   inside a valid encryption part. Other parts are skipped and counted.
 * - The first malformed part ends the datagram (what came before it is kept), like collectd.
 * Each run of accepted parts goes to `sink.segment` (a view of `packet` or of `scratch`).
 */
export function unwrapPacket(
  packet: Uint8Array,
  level: SecurityLevel,
  users: AuthUsers | null,
  sink: UnwrapSink,
  scratch: Uint8Array[],
  flags = 0,
  depth = 0,
): void {
  const end = packet.length;
  const accept = level === "None" || (flags & ENCRYPTED) !== 0 ||
    (level === "Sign" && (flags & SIGNED) !== 0);
  let off = 0;
  let values = 0;
  let skippedValues = 0;
  let skipped = 0;
  let reason: IntakeDropReason | null = null;
  while (end - off > HEADER_SIZE) {
    const type = u16(packet, off);
    const len = u16(packet, off + 2);
    if (len > end - off) {
      reason = "truncated";
      break;
    }
    if (len < HEADER_SIZE) {
      reason = "bad_part_length";
      break;
    }
    if (type === Part.ENCR_AES256) {
      if (depth >= MAX_NESTING) reason = "nesting_too_deep";
      else if (users === null) reason = "no_auth_file";
      else {
        const out = scratch[depth] ??= new Uint8Array(65536);
        const r = decryptPart(packet, off, users, out);
        if (typeof r === "string") reason = r;
        else {
          unwrapPacket(
            out.subarray(0, r),
            level,
            users,
            sink,
            scratch,
            flags | ENCRYPTED,
            depth + 1,
          );
        }
      }
      if (reason !== null) break;
      off += len;
      continue;
    }
    if (level === "Encrypt" && (flags & ENCRYPTED) === 0) {
      skipped++;
      if (type === Part.VALUES && len >= 6) skippedValues += u16(packet, off + 4);
      off += len;
      continue;
    }
    if (type === Part.SIGN_SHA256) {
      if (len <= SIGN_HEADER_SIZE) {
        reason = "bad_security_part";
        break;
      }
      if (users === null) { // accepted unverified, like collectd without an AuthFile
        off += len;
        continue;
      }
      let r: number | SecurityFailure | "nesting_too_deep";
      if (depth >= MAX_NESTING) r = "nesting_too_deep";
      else r = verifySignature(packet, off, users);
      if (typeof r === "string") {
        reason = r;
        skippedValues += countValues(packet, off + len);
        break;
      }
      if (accept && off > 0) sink.segment(packet.subarray(0, off), values);
      unwrapPacket(packet.subarray(r), level, users, sink, scratch, flags | SIGNED, depth + 1);
      return;
    }
    if (!accept) { // level Sign, outside any signature
      skipped++;
      if (type === Part.VALUES && len >= 6) skippedValues += u16(packet, off + 4);
      off += len;
      continue;
    }
    const bad = checkPart(packet, off, type, len);
    if (bad !== null) {
      reason = bad;
      break;
    }
    if (type === Part.VALUES) values += u16(packet, off + 4);
    off += len;
  }
  if (reason === null && off < end) reason = "truncated";
  if (accept && off > 0) sink.segment(packet.subarray(0, off), values);
  if (skipped > 0) sink.drop(level === "Encrypt" ? "unencrypted" : "unsigned", skippedValues);
  if (reason !== null) sink.drop(reason, skippedValues);
}

/** Big-endian uint16 at `at` (no DataView: the walk allocates nothing per datagram). */
function u16(b: Uint8Array, at: number): number {
  return (b[at]! << 8) | b[at + 1]!;
}

/** Values in the values parts from `off` on (for counting what a refused signature held). */
function countValues(packet: Uint8Array, off: number): number {
  let n = 0;
  while (packet.length - off > HEADER_SIZE) {
    const len = u16(packet, off + 2);
    if (len < HEADER_SIZE || len > packet.length - off) break;
    if (u16(packet, off) === Part.VALUES && len >= 6) n += u16(packet, off + 4);
    off += len;
  }
  return n;
}

/** collectd's checks of a plain part (`parse_part_*`), or null when it is well-formed. */
function checkPart(
  packet: Uint8Array,
  off: number,
  type: number,
  len: number,
): IntakeDropReason | null {
  switch (type) {
    case Part.HOST:
    case Part.PLUGIN:
    case Part.PLUGIN_INSTANCE:
    case Part.TYPE:
    case Part.TYPE_INSTANCE:
    case Part.MESSAGE: {
      const max = type === Part.MESSAGE ? MAX_MESSAGE : MAX_NAME;
      const size = len - HEADER_SIZE;
      return size <= 0 || size > max || packet[off + len - 1] !== 0 ? "bad_string" : null;
    }
    case Part.TIME:
    case Part.TIME_HR:
    case Part.INTERVAL:
    case Part.INTERVAL_HR:
    case Part.SEVERITY:
      return len === NUMBER_PART_SIZE ? null : "bad_number";
    case Part.VALUES: {
      if (packet.length - off < 15) return "bad_values";
      const n = u16(packet, off + 4);
      if (len !== 6 + 9 * n) return "bad_values";
      for (let i = 0; i < n; i++) if (packet[off + 6 + i]! > DsCode.ABSOLUTE) return "bad_values";
      return null;
    }
    default:
      return null;
  }
}
