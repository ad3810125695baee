// WebCrypto only: derive the non-extractable AES-GCM key from the password, seal and open values.
export const ITERATIONS = 310000;
const enc = new TextEncoder();
const dec = new TextDecoder();

export function randomBytes(n) {
  return crypto.getRandomValues(new Uint8Array(n));
}

export function newId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = randomBytes(16);
  b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
  const hex = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** PBKDF2-SHA-256 → AES-GCM-256; the key can encrypt and decrypt but never be exported. */
export async function deriveKey(password, salt, iterations = ITERATIONS) {
  const base = await crypto.subtle.importKey('raw', enc.encode(password), 'PBKDF2', false, ['deriveKey']);
  return crypto.subtle.deriveKey({ name: 'PBKDF2', hash: 'SHA-256', salt, iterations }, base,
    { name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
}

/** Encrypt a JSON value; `aad` binds the ciphertext to where it is stored. */
export async function seal(key, value, aad) {
  const iv = randomBytes(12);
  const ct = await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: enc.encode(aad) }, key,
    enc.encode(JSON.stringify(value)));
  return { iv, ct };
}

/** Decrypt what seal() made; throws when the key or the place is wrong. */
export async function unseal(key, box, aad) {
  const plain = await crypto.subtle.decrypt({ name: 'AES-GCM', iv: box.iv, additionalData: enc.encode(aad) },
    key, box.ct);
  return JSON.parse(dec.decode(plain));
}

/** Encrypt raw bytes (a photo) the same way; `aad` binds them to where they are stored. */
export async function sealBytes(key, bytes, aad) {
  const iv = randomBytes(12);
  const ct = await crypto.subtle.encrypt({ name: 'AES-GCM', iv, additionalData: enc.encode(aad) }, key, bytes);
  return { iv, ct };
}

/** Decrypt what sealBytes() made, as an ArrayBuffer. */
export function unsealBytes(key, box, aad) {
  return crypto.subtle.decrypt({ name: 'AES-GCM', iv: box.iv, additionalData: enc.encode(aad) }, key, box.ct);
}
