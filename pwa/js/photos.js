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

/** The kind of image the bytes start as, of those the server takes, or null. */
function kindOf(b) {
  const at = (i, text) => [...text].every((c, j) => b[i + j] === c.charCodeAt(0));
  if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (b[0] === 0x89 && at(1, 'PNG')) return 'png';
  if (at(0, 'RIFF') && at(8, 'WEBP')) return 'webp';
  return null;
}

/** Whether the bytes wholly are the image they start as, walked as images.py walks them (a JPEG's
 *  segments to a scan an end follows, a PNG's chunks to IEND, a WebP's RIFF size): a picture cut
 *  short would otherwise be refused only after the inspector has left the venue. */
function whole(kind, b) {
  const size = (i, n, little) => [...Array(n).keys()].reduce(
    (sum, k) => sum * 256 + b[i + (little ? n - 1 - k : k)], 0);
  if (kind === 'webp') return [8 + size(4, 4, true), 9 + size(4, 4, true)].includes(b.length);
  if (kind === 'png') {
    for (let pos = 8; pos + 12 <= b.length; pos += 12 + size(pos, 4)) {
      if (String.fromCharCode(...b.subarray(pos + 4, pos + 8)) === 'IEND') return true;
    }
    return false;
  }
  for (let pos = 2, segments = 0; segments < 1000; segments += 1) {
    while (b[pos] === 0xff && b[pos + 1] === 0xff) pos += 1;
    if (b[pos] !== 0xff || pos + 4 > b.length) return false;
    const marker = b[pos + 1];
    if (marker <= 0x01 || (marker >= 0xd0 && marker <= 0xd9)) return false; // no length: out of place
    const end = pos + 2 + size(pos + 2, 2);
    if (end > b.length) return false;
    if (marker === 0xda) {
      for (let i = end; i + 1 < b.length; i += 1) if (b[i] === 0xff && b[i + 1] === 0xd9) return true;
      return false;
    }
    pos = end;
  }
  return false;
}

/** Fit a picked photo for the server: as it is when small enough and of a kind the server takes
 *  (refused if cut short), else re-encoded as a (smaller) JPEG. Resolve { blob } or { problem }: the
 *  message to show (cut short, not an image the phone can read, or too large still). */
export async function fitPhoto(file) {
  if (file.size <= MAX_BYTES) {
    const bytes = new Uint8Array(await file.arrayBuffer());
    const kind = kindOf(bytes);
    if (kind) return whole(kind, bytes) ? { blob: file } : { problem: INCOMPLETE };
  }
  try {
    const bitmap = await createImageBitmap(file);
    const scale = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
    const canvas = document.createElement('canvas');
    canvas.width = Math.round(bitmap.width * scale);
    canvas.height = Math.round(bitmap.height * scale);
    canvas.getContext('2d').drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    bitmap.close();
    const blob = await new Promise((resolve) => { canvas.toBlob(resolve, 'image/jpeg', 0.8); });
    return blob && blob.size <= MAX_BYTES ? { blob } : { problem: TOO_LARGE };
  } catch (e) {
    return { problem: file.size > MAX_BYTES ? TOO_LARGE : UNREADABLE };
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
