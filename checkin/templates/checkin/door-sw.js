// The door page's service worker, release {{ release }} (checkin/door.py).
// It keeps the page and its files, so the page opens without the network.
// The API is not its business: requests to it always go to the network, and
// the page itself keeps the bundle and the scans waiting (IndexedDB).
const CACHE = "door-{{ release }}";
const URLS = {{ urls_json|safe }};
const PAGE = URLS[0];

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(URLS.map((url) => new Request(url, { cache: "reload" }))))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) => Promise.all(names.filter((name) => name.startsWith("door-") && name !== CACHE).map((name) => caches.delete(name))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  const kept = request.mode === "navigate" && url.pathname === PAGE ? PAGE : URLS.includes(url.pathname) ? url.pathname : null;
  if (kept === null) return;
  // A release's files never change (a new release is a new worker), so
  // what is kept is answered first; the network only if it is missing.
  event.respondWith(
    caches.open(CACHE).then(async (cache) => (await cache.match(kept)) || fetch(request)),
  );
});
