import { createHash, type Hash } from "node:crypto";
import { OfbKeystream } from "./_ofb_keystream.ts";

/** One user of an AuthFile, with the AES key derived once. */
export interface AuthUser {
  password: string;
  /** SHA-256 of the password: the AES-256 key collectd uses. */
  key: Uint8Array;
  /**
   * HMAC-SHA-256 keyed with the password, as SHA-256 states after the inner and outer padded
   * key block (RFC 2104); `copy()` them per packet instead of re-deriving the key each time.
   */
  hmacInner: Hash;
  hmacOuter: Hash;
  /** AES-256-OFB keystreams under `key`. */
  ofb: OfbKeystream;
}

/** The per-user values derived once from a password. */
export function authUser(password: string): AuthUser {
  let k: Uint8Array = new TextEncoder().encode(password);
  if (k.length > 64) k = createHash("sha256").update(k).digest();
  const block = new Uint8Array(64);
  block.set(k);
  const key = createHash("sha256").update(password).digest();
  return {
    password,
    key,
    ofb: new OfbKeystream(key),
    hmacInner: createHash("sha256").update(block.map((b) => b ^ 0x36)),
    hmacOuter: createHash("sha256").update(block.map((b) => b ^ 0x5c)),
  };
}

/** Users and passwords, from collectd's AuthFile format. */
export type AuthUsers = ReadonlyMap<string, AuthUser>;

/**
 * Parses collectd's AuthFile format (the network plugin's `AuthFile`): one `user: password` per
 * line; leading white space and white space after the colon are ignored; empty lines and lines
 * starting with `#` are skipped, as are lines without a colon or with an empty user name. A user
 * listed twice keeps the last password. The password is the rest of the line (it may contain
 * colons and spaces).
 */
export function parseAuthFile(text: string): Map<string, AuthUser> {
  const users = new Map<string, AuthUser>();
  for (let line of text.split("\n")) {
    line = line.replace(/[\r\n]+$/, "").replace(/^\s+/, "");
    if (line === "" || line.startsWith("#")) continue;
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const user = line.slice(0, colon);
    const password = line.slice(colon + 1).replace(/^\s+/, "");
    users.set(user, authUser(password));
  }
  return users;
}

/** Reads and parses an AuthFile; the error names the file. */
export async function loadAuthFile(
  path: string,
  readTextFile: (path: string) => Promise<string> = Deno.readTextFile,
): Promise<Map<string, AuthUser>> {
  let text: string;
  try {
    text = await readTextFile(path);
  } catch (e) {
    throw new Error(`Cannot read AuthFile ${path}: ${(e as Error).message}`, { cause: e });
  }
  return parseAuthFile(text);
}
