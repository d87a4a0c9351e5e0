/**
 * AES-256-OFB keystreams for decrypting collectd's encryption parts. Each AuthFile user holds
 * one (auth_file.ts derives it with the user's key); security.ts uses it per packet. Apart from
 * both so that neither imports the other.
 * @module
 */
import { createCipheriv } from "node:crypto";

const OFB_INPUT = new Uint8Array(65536);

/**
 * AES-256-OFB keystreams under one key, from ONE long-lived AES-CBC cipher (creating a cipher
 * per packet costs as much as the AES itself in Deno's node:crypto). CBC's chaining value after
 * the previous call is its last output block L; feeding IV xor L and then zero blocks yields
 * E(IV), E(E(IV)), ...: the OFB keystream of IV.
 */
export class OfbKeystream {
  #cipher;
  #last = new Uint8Array(16);

  constructor(key: Uint8Array) {
    this.#cipher = createCipheriv("aes-256-cbc", key, new Uint8Array(16));
    this.#cipher.setAutoPadding(false);
  }

  /** At least `length` keystream bytes (whole blocks) for `iv` (16 bytes); length ≤ 65 536. */
  get(iv: Uint8Array, length: number): Uint8Array {
    const n = Math.ceil(length / 16) * 16;
    if (n === 0) return new Uint8Array(0);
    for (let i = 0; i < 16; i++) OFB_INPUT[i] = iv[i]! ^ this.#last[i]!;
    const out = this.#cipher.update(OFB_INPUT.subarray(0, n));
    OFB_INPUT.fill(0, 0, 16);
    this.#last.set(out.subarray(n - 16, n));
    return out;
  }
}
