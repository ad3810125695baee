// WebCrypto only: the phone's data key, wrapped by a key derived from the password; seal and open values.
// OWASP's count for PBKDF2-SHA-256 (2023); a phone wrapped under fewer is wrapped again at its next unlock.
export const ITERATIONS = 600000;
const WRAP_AAD = 'meta:auth:key';
const RECOVERY_AAD = 'meta:auth:recovery';
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

/** The bytes of a new random data key, to be wrapped at once and dropped. */
export const newDataKeyBytes = () => randomBytes(32);

/** The data key the phone's values are sealed with: usable, never exportable. */
export const importDataKey = (raw) => crypto.subtle.importKey('raw', raw, 'AES-GCM', false, ['encrypt', 'decrypt']);

/** Wrap the data key's bytes under `password` with a fresh salt: `{kek, fields}`, `fields` being
 *  what the auth row keeps (salt, iterations, wrapped) and `kek` the key that opens it again. */
export async function wrapDataKey(password, raw, iterations = ITERATIONS) {
  const salt = randomBytes(16);
  const kek = await deriveKey(password, salt, iterations);
  return { kek, fields: { salt, iterations, wrapped: await sealBytes(kek, raw, WRAP_AAD) } };
}

/** The data key's bytes from what `kek` wrapped; throws when `kek` does not open it. */
export async function unwrapDataKey(kek, wrapped) {
  return new Uint8Array(await unsealBytes(kek, wrapped, WRAP_AAD));
}

/** This device's recovery key, as the server answers it (base64url): usable, never exportable. */
export function importRecoveryKey(text) {
  const b64 = text.replace(/-/g, '+').replace(/_/g, '/');
  const raw = Uint8Array.from(atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4)), (c) => c.charCodeAt(0));
  return crypto.subtle.importKey('raw', raw, 'AES-GCM', false, ['encrypt', 'decrypt']);
}

/** The data key's bytes wrapped under the device's recovery key, for the auth row to keep. */
export const wrapForRecovery = (key, raw) => sealBytes(key, raw, RECOVERY_AAD);

/** The data key's bytes from what wrapForRecovery made; throws when `key` does not open it. */
export async function unwrapForRecovery(key, wrapped) {
  return new Uint8Array(await unsealBytes(key, wrapped, RECOVERY_AAD));
}

/** Open the data key of an auth row with `password`: `{raw, kek}`; throws on a wrong password. A
 *  phone set up before keys were wrapped has no `wrapped`: its data key is the password's PBKDF2
 *  bits themselves (deriveKey made it from them), `kek` null, and a wrong password is only found
 *  by its verifier. */
export async function openDataKey(auth, password) {
  if (!auth.wrapped) {
    const base = await crypto.subtle.importKey('raw', enc.encode(password), 'PBKDF2', false, ['deriveBits']);
    const bits = await crypto.subtle.deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt: auth.salt,
      iterations: auth.iterations }, base, 256);
    return { raw: new Uint8Array(bits), kek: null };
  }
  const kek = await deriveKey(password, auth.salt, auth.iterations);
  return { raw: await unwrapDataKey(kek, auth.wrapped), kek };
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
