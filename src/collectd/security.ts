import { createCipheriv, createHash, createHmac, randomBytes } from "node:crypto";
import { ENCR_HEADER_SIZE, Part, SIGN_HEADER_SIZE } from "./_protocol.ts";
import type { AuthUsers } from "./auth_file.ts";

const encoder = new TextEncoder();
const ZEROS = new Uint8Array(65536);

/**
 * The AES-256-OFB keystream of `length` bytes for `key`/`iv`. Deno's node:crypto has no OFB;
 * CBC encryption of zero blocks is the same keystream (C_i = E(C_{i-1} xor 0), C_0 = IV).
 */
function keystream(key: Uint8Array, iv: Uint8Array, length: number): Uint8Array {
  const blocks = Math.ceil(length / 16) * 16;
  const c = createCipheriv("aes-256-cbc", key, iv);
  c.setAutoPadding(false);
  return c.update(ZEROS.subarray(0, blocks));
}

/** `out[i] = data[i] xor keystream[i]` (AES-256-OFB encryption and decryption alike). */
export function aes256Ofb(
  key: Uint8Array,
  iv: Uint8Array,
  data: Uint8Array,
  out: Uint8Array = new Uint8Array(data.length),
): Uint8Array {
  const ks = keystream(key, iv, data.length);
  for (let i = 0; i < data.length; i++) out[i] = data[i]! ^ ks[i]!;
  return out;
}

/**
 * Signs a packet like collectd's `SecurityLevel Sign`: a signature part
 * (type 0x0200, HMAC-SHA-256 keyed with the password over user name + payload, then the user
 * name) followed by the payload.
 */
export function signPacket(payload: Uint8Array, user: string, password: string): Uint8Array {
  const name = encoder.encode(user);
  const partLen = SIGN_HEADER_SIZE + name.length;
  const out = new Uint8Array(partLen + payload.length);
  const view = new DataView(out.buffer);
  view.setUint16(0, Part.SIGN_SHA256);
  view.setUint16(2, partLen);
  out.set(name, SIGN_HEADER_SIZE);
  out.set(payload, partLen);
  const mac = createHmac("sha256", password).update(out.subarray(SIGN_HEADER_SIZE)).digest();
  out.set(mac, 4);
  return out;
}

/**
 * Encrypts a packet like collectd's `SecurityLevel Encrypt`: one encryption part (type 0x0210)
 * holding the user name, a random IV and AES-256-OFB(key = SHA-256(password)) of
 * SHA-1(payload) + payload.
 */
export function encryptPacket(
  payload: Uint8Array,
  user: string,
  password: string,
  iv: Uint8Array = randomBytes(16),
): Uint8Array {
  const name = encoder.encode(user);
  const partLen = ENCR_HEADER_SIZE + name.length + payload.length;
  if (partLen > 0xffff) throw new RangeError(`Cannot encrypt ${payload.length} bytes in one part`);
  const out = new Uint8Array(partLen);
  const view = new DataView(out.buffer);
  view.setUint16(0, Part.ENCR_AES256);
  view.setUint16(2, partLen);
  view.setUint16(4, name.length);
  out.set(name, 6);
  out.set(iv, 6 + name.length);
  const plainAt = 6 + name.length + 16;
  const plain = new Uint8Array(20 + payload.length);
  plain.set(createHash("sha1").update(payload).digest(), 0);
  plain.set(payload, 20);
  const key = createHash("sha256").update(password).digest();
  aes256Ofb(key, iv, plain, out.subarray(plainAt));
  return out;
}

/** Why a signature or encryption part was refused. */
export type SecurityFailure =
  | "bad_security_part"
  | "unknown_user"
  | "bad_signature"
  | "bad_encryption"
  | "no_auth_file";

const utf8 = new TextDecoder();

/**
 * Verifies the signature part at `off` of `packet` (which covers the rest of the packet).
 * Returns the offset where the signed payload starts, or the reason it failed.
 */
export function verifySignature(
  packet: Uint8Array,
  off: number,
  users: AuthUsers,
): number | SecurityFailure {
  const view = new DataView(packet.buffer, packet.byteOffset, packet.byteLength);
  const remaining = packet.length - off;
  if (remaining <= SIGN_HEADER_SIZE) return "bad_security_part";
  const len = view.getUint16(off + 2);
  if (len <= SIGN_HEADER_SIZE || len > remaining) return "bad_security_part";
  const user = users.get(utf8.decode(packet.subarray(off + SIGN_HEADER_SIZE, off + len)));
  if (user === undefined) return "unknown_user";
  const inner = user.hmacInner.copy().update(packet.subarray(off + SIGN_HEADER_SIZE)).digest();
  const mac = user.hmacOuter.copy().update(inner).digest();
  let diff = 0;
  for (let i = 0; i < 32; i++) diff |= mac[i]! ^ packet[off + 4 + i]!;
  return diff === 0 ? off + len : "bad_signature";
}

/**
 * Decrypts the encryption part at `off` into `out` (at least as long as the part) and checks
 * its SHA-1. Returns the plaintext payload length (its bytes are `out[0..length)`), or the reason
 * it failed.
 */
export function decryptPart(
  packet: Uint8Array,
  off: number,
  users: AuthUsers,
  out: Uint8Array,
): number | SecurityFailure {
  const view = new DataView(packet.buffer, packet.byteOffset, packet.byteLength);
  const remaining = packet.length - off;
  if (remaining <= ENCR_HEADER_SIZE) return "bad_security_part";
  const len = view.getUint16(off + 2);
  if (len <= ENCR_HEADER_SIZE || len > remaining) return "bad_security_part";
  const nameLen = view.getUint16(off + 4);
  if (nameLen === 0 || nameLen > len - (ENCR_HEADER_SIZE + 1)) return "bad_security_part";
  const user = users.get(utf8.decode(packet.subarray(off + 6, off + 6 + nameLen)));
  if (user === undefined) return "unknown_user";
  const ivAt = off + 6 + nameLen;
  const cipherAt = ivAt + 16;
  const cipherLen = off + len - cipherAt;
  const ks = user.ofb.get(packet.subarray(ivAt, cipherAt), cipherLen);
  const payloadLen = cipherLen - 20;
  const hash = new Uint8Array(20);
  for (let i = 0; i < 20; i++) hash[i] = packet[cipherAt + i]! ^ ks[i]!;
  for (let i = 0; i < payloadLen; i++) out[i] = packet[cipherAt + 20 + i]! ^ ks[20 + i]!;
  const sum = createHash("sha1").update(out.subarray(0, payloadLen)).digest();
  let diff = 0;
  for (let i = 0; i < 20; i++) diff |= sum[i]! ^ hash[i]!;
  return diff === 0 ? payloadLen : "bad_encryption";
}
