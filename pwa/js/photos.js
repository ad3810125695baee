// Inspection photos: fitted to the server's 2 MB limit on the phone, queued sealed in IndexedDB
// with their inspection, uploaded only once that inspection has synced, kept until the server has them.
import * as api from './api.js';
import * as db from './db.js';
import * as store from './store.js';

export const MAX_BYTES = 2 * 1024 * 1024;
export const TOO_LARGE = '照片超过 2 MB，且无法压缩。请重新拍摄，或选择较小的照片。';
export const UNREADABLE = '无法识别这张照片的格式（服务器只接收 JPEG、PNG、WebP），请用相机重新拍摄。';
export const INCOMPLETE = '这张照片的文件不完整（可能未拍摄或保存完毕），请重新拍摄。';
const MAX_SIDE = 1600;

/** Whether the bytes hold `text` (ASCII) at `i`. */
const holds = (b, i, text) => [...text].every((c, j) => b[i + j] === c.charCodeAt(0));

/** The n-byte number at i, big-endian unless `little`. */
const number = (b, i, n, little) => [...Array(n).keys()].reduce(
  (sum, k) => sum * 256 + b[i + (little ? n - 1 - k : k)], 0);

/** The kind of image the bytes start as, of those the server takes, or null. */
function kindOf(b) {
  if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (b[0] === 0x89 && holds(b, 1, 'PNG')) return 'png';
  if (holds(b, 0, 'RIFF') && holds(b, 8, 'WEBP')) return 'webp';
  return null;
}

/** A JPEG's segments up to its scan's header, as { marker, body, end }, walked as images.py walks
 *  them; null when they do not reach a scan. */
function jpegSegments(b) {
  const segments = [];
  for (let pos = 2; segments.length < 1000;) {
    while (b[pos] === 0xff && b[pos + 1] === 0xff) pos += 1;
    if (b[pos] !== 0xff || pos + 4 > b.length) return null;
    const marker = b[pos + 1];
    if (marker <= 0x01 || (marker >= 0xd0 && marker <= 0xd9)) return null; // no length: out of place
    const end = pos + 2 + number(b, pos + 2, 2);
    if (end > b.length) return null;
    segments.push({ marker, body: pos + 4, end });
    if (marker === 0xda) return segments;
    pos = end;
  }
  return null;
}

/** Whether the bytes wholly are the image they start as, walked as images.py walks them (a JPEG's
 *  segments to a scan an end follows, a PNG's chunks to IEND, a WebP's RIFF size): a picture cut
 *  short would otherwise be refused only after the inspector has left the venue. */
function whole(kind, b) {
  if (kind === 'webp') return [8 + number(b, 4, 4, true), 9 + number(b, 4, 4, true)].includes(b.length);
  if (kind === 'png') return pngChunks(b).includes('IEND');
  const segments = jpegSegments(b);
  if (!segments) return false;
  for (let i = segments.at(-1).end; i + 1 < b.length; i += 1) {
    if (b[i] === 0xff && b[i + 1] === 0xd9) return true;
  }
  return false;
}

/** The types of a PNG's chunks up to IEND, walked as images.py walks them. */
function pngChunks(b) {
  const types = [];
  for (let pos = 8; pos + 12 <= b.length && types.at(-1) !== 'IEND'; pos += 12 + number(b, pos, 4)) {
    types.push(String.fromCharCode(...b.subarray(pos + 4, pos + 8)));
  }
  return types;
}

/** The types of a (whole) WebP's chunks. */
function webpChunks(b) {
  const types = [];
  for (let pos = 12; pos + 8 <= b.length; pos += 8 + number(b, pos + 4, 4, true) + (b[pos + 4] & 1)) {
    types.push(String.fromCharCode(...b.subarray(pos, pos + 4)));
  }
  return types;
}

/** Whether a (whole) image carries Exif (a JPEG's APP1, a PNG's eXIf chunk, a WebP's EXIF chunk):
 *  its orientation may turn the picture as this phone draws it, and the server drops it. */
function carriesExif(kind, b) {
  if (kind === 'png') return pngChunks(b).includes('eXIf');
  if (kind === 'webp') return webpChunks(b).includes('EXIF');
  return jpegSegments(b).some((s) => s.marker === 0xe1 && holds(b, s.body, 'Exif\0\0'));
}

/** Fit a picked photo for the server: as it is when small enough, of a kind the server takes and
 *  without Exif (refused if cut short), else re-encoded as a (smaller) JPEG. Resolve { blob } or
 *  { problem }: the message to show (cut short, not an image the phone can read, or too large still). */
export async function fitPhoto(file) {
  let takenAsItIs = false;
  if (file.size <= MAX_BYTES) {
    const bytes = new Uint8Array(await file.arrayBuffer());
    const kind = kindOf(bytes);
    if (kind && !whole(kind, bytes)) return { problem: INCOMPLETE };
    // The server drops Exif, and with it the orientation: a camera's photo is drawn here as the phone
    // shows it (upright, where it honours the orientation: Chromium does for JPEG and PNG, not WebP),
    // which costs a cheap phone no more than the camera's larger photos already do.
    if (kind && !carriesExif(kind, bytes)) return { blob: file };
    takenAsItIs = Boolean(kind);
  }
  try {
    const bitmap = await upright(file);
    const scale = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
    const canvas = document.createElement('canvas');
    canvas.width = Math.round(bitmap.width * scale);
    canvas.height = Math.round(bitmap.height * scale);
    canvas.getContext('2d').drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    bitmap.close();
    const blob = await new Promise((resolve) => { canvas.toBlob(resolve, 'image/jpeg', 0.8); });
    return blob && blob.size <= MAX_BYTES ? { blob } : { problem: TOO_LARGE };
  } catch (e) {
    // A phone that cannot redraw a photo the server takes sends it as it is (the server strips it).
    if (takenAsItIs) return { blob: file };
    return { problem: file.size > MAX_BYTES ? TOO_LARGE : UNREADABLE };
  }
}

/** The picture drawn as the camera held it. Browsers before 2023 (Chrome 112) know no 'from-image'
 *  and refuse it with a TypeError; their default already follows Exif. */
async function upright(file) {
  try {
    return await createImageBitmap(file, { imageOrientation: 'from-image' });
  } catch (e) {
    if (e instanceof TypeError) return createImageBitmap(file);
    throw e;
  }
}

/** Upload every queued photo whose inspection the server has applied. A network or server
 *  failure stops here (the sync retries later); a refusal keeps the photo, marked, for the user.
 *  Resolve whether any photo was uploaded or refused. */
export async function uploadQueued() {
  let handled = false;
  for (const id of await db.photoIds('pending')) {
    const photo = await db.photo(id);
    const inspection = photo && store.one('inspection', photo.inspection_id);
    if (!inspection || inspection._pending) continue;
    try {
      const receipt = await api.call('POST', `/api/inspections/${encodeURIComponent(photo.inspection_id)}/photos`,
        photo.bytes, { 'X-Photo-Id': id });
      // Only the server's receipt lets the photo go: a proxy's page answered with 200 is none.
      if (!receipt || receipt.id !== id) throw new api.ApiError(0, 'network', '服务器未确认收到照片，稍后自动重试');
    } catch (e) {
      if (e.retryable || e.status === 401 || e.status === 403) throw e;
      await db.markPhoto(id, 'rejected', e.code);
      handled = true;
      continue;
    }
    await db.deletePhoto(id);
    handled = true;
  }
  await store.refreshCounts();
  return handled;
}
