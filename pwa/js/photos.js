// Inspection photos: fitted to the server's 2 MB limit on the phone, queued sealed in IndexedDB
// with their inspection, uploaded only once that inspection has synced, kept until the server has them.
import * as api from './api.js';
import * as db from './db.js';
import * as store from './store.js';

export const MAX_BYTES = 2 * 1024 * 1024;
export const TOO_LARGE = '照片超过 2 MB，且无法压缩。请重新拍摄，或选择较小的照片。';
export const UNREADABLE = '无法识别这张照片的格式（服务器只接收 JPEG、PNG、WebP），请用相机重新拍摄。';
const MAX_SIDE = 1600;

/** Whether the file's first bytes are of a JPEG, PNG or WebP image, the kinds the server takes
 *  (images.py reads them the same way; a GIF, a HEIC or a file named .jpg that is none would be
 *  refused only after the inspector has left the venue). */
async function takenAsItIs(file) {
  const b = new Uint8Array(await file.slice(0, 12).arrayBuffer());
  const at = (i, text) => [...text].every((c, j) => b[i + j] === c.charCodeAt(0));
  return (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) || (b[0] === 0x89 && at(1, 'PNG'))
    || (at(0, 'RIFF') && at(8, 'WEBP'));
}

/** Return the photo as it is when small enough and of a kind the server takes, else re-encoded as
 *  a (smaller) JPEG; null when it cannot be (not an image the phone can read, or too large still). */
export async function fitPhoto(file) {
  if (file.size <= MAX_BYTES && await takenAsItIs(file)) return file;
  try {
    const bitmap = await createImageBitmap(file);
    const scale = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
    const canvas = document.createElement('canvas');
    canvas.width = Math.round(bitmap.width * scale);
    canvas.height = Math.round(bitmap.height * scale);
    canvas.getContext('2d').drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    bitmap.close();
    const blob = await new Promise((resolve) => { canvas.toBlob(resolve, 'image/jpeg', 0.8); });
    return blob && blob.size <= MAX_BYTES ? blob : null;
  } catch (e) {
    return null;
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
