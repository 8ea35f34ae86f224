/**
 * Checks age keys as the `age-encryption` package would accept them (bech32, BIP 173, without
 * its 90-character limit; the key type's prefix and payload length), without loading the
 * package: settings are checked at start-up, and most commands never encrypt anything.
 */

const CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
const GENERATOR = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];

/** Payload bytes of each recipient type, by its lowercase prefix. */
const RECIPIENT_BYTES: Record<string, number> = {
  age: 32,
  age1pq: 1216,
  age1tag: 33,
  age1tagpq: 1249,
};
/** Payload bytes of each identity type, by its uppercase prefix. */
const IDENTITY_BYTES: Record<string, number> = {
  'AGE-SECRET-KEY-': 32,
  'AGE-SECRET-KEY-PQ-': 32,
};

function polymod(values: number[]): number {
  let chk = 1;
  for (const v of values) {
    const top = chk >>> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ v;
    for (let i = 0; i < 5; i++) if ((top >>> i) & 1) chk ^= GENERATOR[i]!;
  }
  return chk;
}

/** The prefix and payload byte count of a bech32 string, or undefined if it is not one. */
function decodeBech32(text: string): { prefix: string; bytes: number } | undefined {
  if (text !== text.toLowerCase() && text !== text.toUpperCase()) return undefined;
  const s = text.toLowerCase();
  const at = s.lastIndexOf('1');
  if (at < 1 || s.length - at - 1 < 6) return undefined;
  const prefix = s.slice(0, at);
  const words: number[] = [];
  for (const c of s.slice(at + 1)) {
    const w = CHARSET.indexOf(c);
    if (w < 0) return undefined;
    words.push(w);
  }
  const expanded = [
    ...[...prefix].map((c) => c.charCodeAt(0) >> 5),
    0,
    ...[...prefix].map((c) => c.charCodeAt(0) & 31),
  ];
  if (polymod([...expanded, ...words]) !== 1) return undefined;
  const dataBits = (words.length - 6) * 5;
  // Padding is at most 4 zero bits.
  if (dataBits % 8 > 4) return undefined;
  const lastWord = words[words.length - 7];
  if (lastWord !== undefined && lastWord & ((1 << (dataBits % 8)) - 1)) return undefined;
  return { prefix: text.slice(0, at), bytes: Math.floor(dataBits / 8) };
}

/** True for a recipient (public key) the age library can encrypt to. */
export function isAgeRecipient(text: string): boolean {
  const decoded = decodeBech32(text);
  return decoded !== undefined && RECIPIENT_BYTES[decoded.prefix] === decoded.bytes;
}

/** True for an identity (secret key) the age library can decrypt with. */
export function isAgeIdentity(text: string): boolean {
  const decoded = decodeBech32(text);
  return decoded !== undefined && IDENTITY_BYTES[decoded.prefix] === decoded.bytes;
}
