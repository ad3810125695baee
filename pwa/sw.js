// Service worker: precache the app shell under a versioned cache, serve it offline, never
// touch /api, and wait for the user to accept a new version ('有新版本') before taking over.
const VERSION = 'v130';
const CACHE = `hulei-shell-${VERSION}`;
const SHELL = [
  '/',
  '/manifest.webmanifest',
  '/css/app.css',
  '/icons/icon-192.png',
  '/icons/icon-512.png',
  '/icons/maskable-512.png',
  '/js/app.js',
  '/js/api.js',
  '/js/checks.js',
  '/js/crypto.js',
  '/js/db.js',
  '/js/db/idb.js',
  '/js/db/meta.js',
  '/js/db/records.js',
  '/js/db/outbox.js',
  '/js/db/pull.js',
  '/js/db/conflicts.js',
  '/js/db/photo-queue.js',
  '/js/db/drafts.js',
  '/js/drafts.js',
  '/js/draft-names.js',
  '/js/session.js',
  '/js/state.js',
  '/js/store.js',
  '/js/sync.js',
  '/js/other-tabs.js',
  '/js/idle-lock.js',
  '/js/ui.js',
  '/js/clue-prompt.js',
  '/js/rules.js',
  '/js/shell.js',
  '/js/i18n/zh-CN.js',
  '/js/views/login.js',
  '/js/views/today.js',
  '/js/views/children.js',
  '/js/views/child.js',
  '/js/views/visit.js',
  '/js/views/register.js',
  '/js/views/venues.js',
  '/js/views/venue.js',
  '/js/views/inspection.js',
  '/js/views/staff-check.js',
  '/js/views/operations.js',
  '/js/views/minor-found.js',
  '/js/views/venue-add.js',
  '/js/views/clue.js',
  '/js/views/sync.js',
  '/js/views/conflict.js',
  '/js/photos.js',
  '/js/violations.js',
  '/js/amend.js',
  '/js/discard.js',
  '/js/online.js',
  '/js/views/head.js',
  '/js/views/ledgers.js',
  '/js/views/review.js',
  '/js/views/locations.js',
  '/js/views/duplicates.js',
  '/js/views/devices.js',
  '/js/views/plans.js',
  '/js/views/child-head.js',
  '/js/views/clues.js',
  '/js/views/weekly.js',
];

async function precache() {
  const cache = await caches.open(CACHE);
  await cache.addAll(SHELL.map((url) => new Request(url, { cache: 'reload' })));
}

// After unlock the page asks for any shell file missing from this version's cache (evicted, or
// never fetched): only missing ones, since refetching all could mix a newer release's files into
// this version's cache before the user accepted the update.
async function fillMissing() {
  const cache = await caches.open(CACHE);
  for (const url of SHELL) {
    if (!(await cache.match(url))) await cache.add(new Request(url, { cache: 'reload' }));
  }
}

self.addEventListener('install', (event) => {
  event.waitUntil(precache());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith('hulei-shell-') && name !== CACHE) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

self.addEventListener('message', (event) => {
  const type = event.data && event.data.type;
  if (type === 'SKIP_WAITING') self.skipWaiting();
  if (type === 'PRECACHE') event.waitUntil(fillMissing().catch(() => {}));
});

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  // The API is never cached: its requests go straight to the network.
  if (url.origin !== self.location.origin || url.pathname.startsWith('/api/') || url.pathname === '/api'
      || event.request.method !== 'GET') return;
  if (event.request.mode === 'navigate') {
    event.respondWith(caches.match('/', { cacheName: CACHE }).then((hit) => hit || fetch(event.request)));
    return;
  }
  event.respondWith(caches.match(event.request, { cacheName: CACHE, ignoreSearch: true })
    .then((hit) => hit || fetch(event.request)));
});
