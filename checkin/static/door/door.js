// The door page (docs/door.md). A volunteer logs in, picks an event and
// scans tickets with the camera or types their codes. Online, a scan is a
// POST /checkin. Without the network (or when the server does not answer),
// the page answers from the door bundle it keeps in IndexedDB, checking the
// ticket's Ed25519 signature itself, and queues the scan; the queue goes to
// POST /checkin/batch as soon as the server answers again. Every scan has a
// nonce, so a scan sent twice (a lost answer, a batch resent) counts once.

const html = document.documentElement;
const API = html.dataset.api;
const $ = (id) => document.getElementById(id);

const SYNC_EVERY_MS = 15000;
const BATCH_SIZE = 200;
const ANSWER_MS = { ok: 2000, already: 4000, refused: 5000 };

const state = {
  auth: null, // {access, refresh, user}
  device: "",
  direction: "in",
  event: null, // the bundle's event
  opening: null, // the event being opened
  version: null,
  keys: new Map(), // key id -> {raw: Uint8Array, key: Promise<CryptoKey|null>}
  people: new Map(), // ticket id -> {name, checked_in_at, inside, device}
  revoked: new Set(),
  waiting: 0,
  reachable: navigator.onLine,
  syncRefused: "",
  generation: 0, // one more at each logout: answers asked for before it are dropped
  recent: [], // the last scans: {nonce, code, answer, settled}
};

// ---- IndexedDB ------------------------------------------------------------------
// kv: auth, device, event. bundles: one per event. queue: scans not yet
// answered by the server. marks: what this device's scans changed, laid over
// the bundle until a newer bundle says it too. refused: scans the server
// refused as malformed (kept, never sent again).

// Version 2 added the queue's index by event and the refused store; an
// upgrade keeps every stored scan.
const DB = new Promise((resolve, reject) => {
  const request = indexedDB.open("eventmaster-door", 2);
  request.onupgradeneeded = (upgrade) => {
    const db = request.result;
    if (upgrade.oldVersion < 1) {
      db.createObjectStore("kv");
      db.createObjectStore("bundles", { keyPath: "event.id" });
      db.createObjectStore("queue", { keyPath: "nonce" });
      db.createObjectStore("marks", { keyPath: ["event_id", "ticket_id"] });
    }
    if (upgrade.oldVersion < 2) {
      request.transaction.objectStore("queue").createIndex("event", "event_id");
      db.createObjectStore("refused", { keyPath: "nonce" });
    }
  };
  request.onsuccess = () => {
    // Another tab with a newer release asks to upgrade: let it.
    request.result.onversionchange = () => request.result.close();
    resolve(request.result);
  };
  request.onerror = () => reject(request.error);
  request.onblocked = () => fail(new Error("close the door page's other tabs, then reload"));
});

// One transaction over ``names`` (a store's name, or several): ``work`` gets
// the store (or an object of them) and may return a request, whose result
// is the promise's once the transaction has committed.
async function db(names, mode, work) {
  const database = await DB;
  return new Promise((resolve, reject) => {
    const transaction = database.transaction(names, mode);
    const stores = Array.isArray(names)
      ? Object.fromEntries(names.map((name) => [name, transaction.objectStore(name)]))
      : transaction.objectStore(names);
    const request = work(stores);
    transaction.oncomplete = () => resolve(request ? request.result : undefined);
    transaction.onabort = () => reject(transaction.error || new Error("IndexedDB transaction aborted"));
  });
}
const kvGet = (key) => db("kv", "readonly", (s) => s.get(key));
const kvPut = (key, value) => db("kv", "readwrite", (s) => s.put(value, key));
const kvDelete = (key) => db("kv", "readwrite", (s) => s.delete(key));
const queuedNonces = async () => new Set(await db("queue", "readonly", (s) => s.getAllKeys()));

// Scans, bundle updates and logouts take turns: what one decides from the
// local state is not changed under it by another.
let turn = Promise.resolve();
function exclusive(work) {
  const run = turn.then(work, work);
  turn = run.catch(() => {});
  return run;
}

// ---- The API ------------------------------------------------------------------

// The server could not be reached or did not answer as the API does (a
// network error, a timeout, a 5xx or 429, a redirect or a page that is not
// JSON: a captive portal's, a proxy's): answer offline, send later.
class Unreachable extends Error {}

const WITHOUT_TOKEN = new Set(["auth/login", "auth/refresh"]);

// {status, body}: the answer and its JSON (null for a 204). The timeout
// covers the body too.
// ``body`` may be a function, called at each try (a retry after a token
// refresh sends the current refresh token, say).
async function api(path, { method = "GET", body, timeout = 5000, again = false } = {}) {
  const payload = typeof body === "function" ? body() : body;
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (state.auth && !WITHOUT_TOKEN.has(path)) headers.Authorization = `Bearer ${state.auth.access}`;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeout);
  let status;
  let answer = null;
  try {
    const response = await fetch(API + path, {
      method,
      headers,
      body: payload === undefined ? undefined : JSON.stringify(payload),
      signal: controller.signal,
      cache: "no-store",
    });
    status = response.status;
    if (response.redirected) throw new Unreachable("redirected: a captive portal?");
    if (status >= 500 || status === 429) throw new Unreachable(`HTTP ${status}`);
    if (status !== 204) {
      if (!(response.headers.get("Content-Type") || "").includes("json")) {
        throw new Unreachable(`HTTP ${status}, not the API`);
      }
      answer = await response.json();
    }
  } catch (error) {
    throw error instanceof Unreachable ? error : new Unreachable(String(error));
  } finally {
    clearTimeout(timer);
  }
  if (status === 401 && state.auth && !WITHOUT_TOKEN.has(path) && !again && (await refreshToken())) {
    return api(path, { method, body, timeout, again: true });
  }
  setReachable(true);
  return { status, body: answer };
}

// The API's error shape: {type, errors: [{code, detail, attr}]}.
const problem = (body, otherwise) => body?.errors?.[0]?.detail || otherwise;

// One refresh at a time: refresh tokens rotate, and a second use of one is
// refused (which would log the door out).
let refreshing = null;
function refreshToken() {
  refreshing ??= renewLogin().finally(() => {
    refreshing = null;
  });
  return refreshing;
}

async function renewLogin() {
  const auth = state.auth;
  const generation = state.generation;
  if (!auth) return false;
  const { status, body } = await api("auth/refresh", { method: "POST", body: { refresh: auth.refresh } });
  if (generation !== state.generation) return false; // logged out meanwhile: keep nothing
  if (status === 200) {
    await saveLogin({ ...auth, access: body.access, refresh: body.refresh });
    return true;
  }
  if (state.auth && state.auth.refresh !== auth.refresh) return true; // renewed meanwhile
  await forgetLogin(); // expired or logged out elsewhere: the scans stay queued
  return false;
}

async function saveLogin(auth) {
  state.auth = auth;
  await kvPut("auth", auth);
}

async function forgetLogin() {
  state.auth = null;
  await kvDelete("auth");
  render();
}

function setReachable(reachable) {
  if (state.reachable !== reachable) {
    state.reachable = reachable;
    render();
    if (reachable) syncSoon();
  }
}

// ---- Signed tickets: EM1.<base32(event | registration | key id | signature)> --

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const DOMAIN = new TextEncoder().encode("eventmaster-ticket-v1");

function base32(text) {
  if (text.length !== 160) return null; // 100 bytes, no padding: one spelling per ticket
  const bytes = new Uint8Array(100);
  let bits = 0;
  let value = 0;
  let at = 0;
  for (const character of text) {
    const digit = ALPHABET.indexOf(character);
    if (digit < 0) return null;
    value = ((value << 5) | digit) & 0xfff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      bytes[at++] = (value >> bits) & 0xff;
    }
  }
  return bytes;
}

function uuid(bytes) {
  const hex = Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function fromBase64Url(text) {
  const plain = atob(text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4));
  return Uint8Array.from(plain, (character) => character.charCodeAt(0));
}

// null: not a signed ticket (a random code); {readable: false}: not a valid one.
function readTicket(code) {
  if (!code.startsWith("EM1.")) return null;
  const raw = base32(code.slice(4));
  if (raw === null) return { readable: false };
  return {
    readable: true,
    event_id: uuid(raw.subarray(0, 16)),
    ticket_id: uuid(raw.subarray(16, 32)),
    kid: new DataView(raw.buffer).getUint32(32),
    message: new Uint8Array([...DOMAIN, ...raw.subarray(0, 36)]),
    signature: raw.subarray(36),
  };
}

// What the server would refuse as malformed (docs/api.md): never queued.
// (encodeURIComponent throws on a lone surrogate.)
function sendable(code) {
  if (code.length > 255 || code.includes("\u0000")) return false;
  try {
    encodeURIComponent(code);
    return true;
  } catch {
    return false;
  }
}

let noble = null; // @noble/ed25519, loaded only where WebCrypto lacks Ed25519

async function webCryptoKey(raw) {
  try {
    return await crypto.subtle.importKey("raw", raw, { name: "Ed25519" }, false, ["verify"]);
  } catch {
    return null;
  }
}

async function signatureGood(ticket, key) {
  const cryptoKey = await key.key;
  if (cryptoKey) return crypto.subtle.verify({ name: "Ed25519" }, cryptoKey, ticket.signature, ticket.message);
  noble ??= await import(html.dataset.noble);
  // Strict RFC 8032 checks, as the server's (OpenSSL) verification makes.
  return noble.verifyAsync(ticket.signature, ticket.message, key.raw, { zip215: false });
}

// ---- The door bundle ------------------------------------------------------------

function useBundle(bundle, marks) {
  state.event = bundle.event;
  state.version = bundle.version;
  state.keys = new Map(
    bundle.keys.map(({ kid, public_key }) => {
      const raw = fromBase64Url(public_key);
      return [kid, { raw, key: webCryptoKey(raw) }];
    }),
  );
  state.people = new Map(
    bundle.attendees.map((a) => [
      a.ticket_id,
      { name: a.name, checked_in_at: a.checked_in_at, inside: a.inside, device: a.checked_in_device },
    ]),
  );
  state.revoked = new Set(bundle.revoked);
  for (const mark of marks) state.people.set(mark.ticket_id, { ...state.people.get(mark.ticket_id), ...mark.person });
}

function forgetEvent() {
  Object.assign(state, { event: null, version: null, keys: new Map(), people: new Map(), revoked: new Set() });
}

async function openEvent(eventId) {
  state.opening = eventId;
  await exclusive(async () => {
    forgetEvent();
    const saved = await db("bundles", "readonly", (s) => s.get(eventId));
    if (saved) useBundle(saved, await eventMarks(eventId));
  });
  await kvPut("event", eventId);
  try {
    await refreshBundle(eventId);
  } catch (error) {
    if (!(error instanceof Unreachable)) throw error;
    setReachable(false);
  }
  render();
  return state.event?.id === eventId;
}

const eventMarks = (eventId) =>
  db("marks", "readonly", (s) => s.getAll(IDBKeyRange.bound([eventId, ""], [eventId, "\uffff"])));

// One fetch of an event's bundle at a time.
const fetching = new Map();
function refreshBundle(eventId = state.event?.id) {
  if (!eventId) return Promise.resolve();
  const key = `${state.generation}:${eventId}`;
  if (!fetching.has(key)) {
    fetching.set(
      key,
      fetchBundle(eventId).finally(() => fetching.delete(key)),
    );
  }
  return fetching.get(key);
}

async function fetchBundle(eventId) {
  const generation = state.generation;
  // A mark whose scan was still queued when the bundle was asked for stays:
  // the bundle may have been read before the scan reached the server.
  const asked = Date.now();
  const queued = await queuedNonces();
  const saved = await db("bundles", "readonly", (s) => s.get(eventId));
  const known = state.event?.id === eventId && state.version ? state.version : saved?.version;
  const since = saved && known ? `?since=${encodeURIComponent(known)}` : "";
  const { status, body } = await api(`events/${eventId}/door-bundle${since}`, { timeout: 60000 });
  if (generation !== state.generation) return; // logged out meanwhile
  if (status === 401) {
    await forgetLogin(); // keep the saved bundle; scans wait for a new login
    return;
  }
  if (status !== 200) throw new Error(problem(body, "You may not run this door."));
  await exclusive(async () => {
    if (generation !== state.generation) return; // logged out meanwhile
    const current = state.event?.id === eventId || state.opening === eventId;
    const unchanged =
      saved &&
      !body.full &&
      !body.attendees.length &&
      !body.revoked.length &&
      same(saved.keys, body.keys) &&
      same(saved.event, body.event);
    let bundle = saved;
    if (!unchanged) {
      bundle = body;
      if (!body.full && saved) {
        // Changed or new attendees replace theirs; cancelled ones leave the list.
        const attendees = new Map(saved.attendees.map((a) => [a.ticket_id, a]));
        for (const a of body.attendees) attendees.set(a.ticket_id, a);
        for (const id of body.revoked) attendees.delete(id);
        const revoked = new Set([...saved.revoked, ...body.revoked]);
        for (const a of body.attendees) revoked.delete(a.ticket_id);
        bundle = { ...body, attendees: [...attendees.values()], revoked: [...revoked] };
      }
      await db("bundles", "readwrite", (s) => s.put(bundle));
    }
    const { kept, dropped } = await keptMarks(eventId, asked, queued);
    if (!current) return;
    if (unchanged && state.event?.id === eventId && !dropped) {
      state.version = body.version; // nothing to write for an empty delta (14 MB at 100,000)
    } else {
      useBundle({ ...bundle, version: body.version }, kept);
    }
  });
  render();
}

const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

// Drops the marks a bundle asked for at ``asked`` says too: {kept, dropped}.
async function keptMarks(eventId, asked, queued) {
  const marks = await eventMarks(eventId);
  const stale = marks.filter((m) => m.at < asked && !queued.has(m.nonce));
  await db("marks", "readwrite", (s) => stale.forEach((m) => s.delete([m.event_id, m.ticket_id])));
  return { kept: marks.filter((m) => !stale.includes(m)), dropped: stale.length };
}

// ---- Scans --------------------------------------------------------------------

// One scan at a time: two at once (the camera and a typed code) could
// otherwise both let one ticket in.
let scanTurn = Promise.resolve();
function scan(code) {
  const run = scanTurn.then(() => scanOne(code));
  scanTurn = run.catch(() => {});
  return run;
}

async function scanOne(code) {
  const attempt = {
    nonce: crypto.randomUUID(),
    event_id: state.event?.id,
    ticket_code: code.trim(),
    scanned_at: new Date().toISOString(),
    direction: state.direction,
  };
  if (!attempt.ticket_code || !state.event) return;
  let answer = null;
  const online = () => state.auth && navigator.onLine && state.reachable;
  const waitingHere = () => db("queue", "readonly", (s) => s.index("event").count(attempt.event_id));
  try {
    // While this event has scans waiting, new ones join the queue: the
    // server gets them in the order they were made, and an entry this
    // device let in offline is not let in again online.
    if (online() && !(await waitingHere())) answer = await tryOnline(attempt);
    if (answer === null) {
      // Unanswered: the server may still have recorded it; the same nonce
      // makes sending it again safe.
      const checked = await checkTicket(attempt);
      answer = await exclusive(() => scanOffline(attempt, checked));
      if (answer.result === "unverifiable" && online()) {
        // Only the server can answer this one: send what waits, then ask it.
        await sync();
        if (online() && !(await waitingHere())) answer = (await tryOnline(attempt)) ?? answer;
      }
    }
  } catch (error) {
    console.error(error);
    answer = { result: "error", name: "", detail: String(error?.message || error), online: false };
  }
  state.recent.unshift({ nonce: attempt.nonce, code: attempt.ticket_code, answer });
  state.recent.length = Math.min(state.recent.length, 30);
  show(answer);
  if (answer.queue && state.reachable) syncSoon();
}

async function tryOnline(attempt) {
  try {
    return await scanOnline(attempt);
  } catch (error) {
    if (!(error instanceof Unreachable)) throw error;
    setReachable(false);
    return null;
  }
}

async function scanOnline(attempt) {
  const { status, body } = await api("checkin", {
    method: "POST",
    body: { ...attempt, device: state.device },
    timeout: 3000,
  });
  if (status === 401) return null; // logged out: answer offline, send later
  if (status === 409) throw new Unreachable("busy"); // a lock timeout (docs/api.md, Retries)
  if (status === 403 || status === 404) {
    return { result: "forbidden", detail: problem(body, ""), direction: attempt.direction, online: true };
  }
  if (status !== 200) {
    return { result: "invalid", detail: problem(body, ""), direction: attempt.direction, online: true };
  }
  const answer = serverAnswer(body, attempt.direction);
  const ticketId = body.registration?.id;
  if (ticketId && (body.result === "ok" || body.result === "already_checked_in")) {
    const person = {
      ...state.people.get(ticketId),
      name: answer.name,
      inside: body.result === "already_checked_in" || attempt.direction === "in",
      checked_in_at: body.checked_in_at,
      device: body.checked_in_device,
    };
    await exclusive(() => {
      state.people.set(ticketId, person);
      return db("marks", "readwrite", (s) => s.put(markOf(attempt, ticketId, person)));
    });
  }
  return answer;
}

const markOf = (attempt, ticketId, person) => ({
  event_id: attempt.event_id,
  ticket_id: ticketId,
  person,
  nonce: attempt.nonce,
  at: Date.now(),
});

function serverAnswer(body, direction) {
  const registration = body.registration || {};
  return {
    result: body.result,
    direction,
    name: registration.user?.full_name || "",
    at: body.checked_in_at,
    by: [body.checked_in_by?.full_name, body.checked_in_device].filter(Boolean).join(", "),
    otherEvent: registration.event?.title || "",
    online: true,
  };
}

// What the ticket itself says, checked without the network (and outside
// the lock: the signature check may load a script): {kind, ticket}.
async function checkTicket(attempt) {
  if (!sendable(attempt.ticket_code)) return { kind: "malformed" };
  const ticket = readTicket(attempt.ticket_code);
  if (ticket === null) return { kind: "random" }; // a random code needs the server
  if (!ticket.readable) return { kind: "forged" };
  if (ticket.event_id !== attempt.event_id) return { kind: "other_event" };
  const key = state.keys.get(ticket.kid);
  if (!key) return { kind: "unknown_key" }; // a key newer than this bundle
  return { kind: (await signatureGood(ticket, key)) ? "good" : "forged", ticket };
}

// The answer from the bundle; the scan and what it changed are written
// together (one transaction), or nothing is.
async function scanOffline(attempt, checked) {
  if (state.event?.id !== attempt.event_id) {
    // The event was switched while this scan waited: judge nothing.
    return { result: "error", name: "", detail: "The event changed: scan again", online: false };
  }
  const { answer, ticketId, person } = decideOffline(attempt, checked);
  if (answer.queue) {
    await db(["queue", "marks"], "readwrite", ({ queue, marks }) => {
      queue.put(attempt);
      if (person) marks.put(markOf(attempt, ticketId, person));
    });
    if (person) state.people.set(ticketId, person);
    await countWaiting();
  }
  return answer;
}

function decideOffline(attempt, checked) {
  const answer = (result, person = {}, queue = true) => ({
    result,
    direction: attempt.direction,
    name: person.name || "",
    at: person.checked_in_at || null,
    by: person.device || "",
    online: false,
    queue,
  });
  const decided = (result, person, queue) => ({ answer: answer(result, person, queue) });
  switch (checked.kind) {
    case "malformed":
      return decided("invalid", {}, false);
    case "random":
    case "unknown_key":
      return decided("unverifiable", {}, false);
    case "forged":
      return decided("invalid");
    case "other_event":
      return decided("wrong_event");
  }
  const ticketId = checked.ticket.ticket_id;
  if (state.event.status === "cancelled") return decided("event_cancelled");
  if (state.revoked.has(ticketId)) return decided("cancelled", state.people.get(ticketId));
  // A good signature not in the bundle: confirmed after the bundle was made
  // (only confirmed registrations get signed tickets).
  const person = state.people.get(ticketId) || { name: "", inside: false };
  if (attempt.direction === "out") {
    if (!person.inside) return decided("not_inside", person);
    return { answer: answer("ok", person), ticketId, person: { ...person, inside: false } };
  }
  if (person.inside) return decided("already_checked_in", person);
  const entered = { ...person, inside: true, checked_in_at: attempt.scanned_at, device: state.device };
  return { answer: answer("ok", person), ticketId, person: entered };
}

async function countWaiting() {
  state.waiting = await db("queue", "readonly", (s) => s.count());
  render();
}

// ---- Sync -----------------------------------------------------------------------

function syncSoon() {
  sync().catch(fail);
}

// Sends the queue; a call during a sync joins it, and the sync goes round
// once more for what was queued meanwhile.
let syncRun = null;
let syncAgain = false;
function sync() {
  if (!state.auth || !navigator.onLine) return Promise.resolve();
  if (syncRun) {
    syncAgain = true;
    return syncRun;
  }
  syncRun = (async () => {
    do {
      syncAgain = false;
      await sendQueue();
    } while (syncAgain && state.auth && state.reachable);
  })().finally(() => {
    syncRun = null;
  });
  return syncRun;
}

async function sendQueue() {
  let sent = 0;
  const refusedEvents = new Set();
  const reasons = [];
  try {
    for (;;) {
      const waiting = (await db("queue", "readonly", (s) => s.getAll())).filter(
        (scan) => !refusedEvents.has(scan.event_id),
      );
      if (waiting.length === 0) break;
      const eventId = waiting[0].event_id;
      const batch = waiting
        .filter((s) => s.event_id === eventId)
        .sort((a, b) => a.scanned_at.localeCompare(b.scanned_at))
        .slice(0, BATCH_SIZE);
      const { status, body } = await api("checkin/batch", {
        method: "POST",
        timeout: 30000,
        body: {
          event_id: eventId,
          device: state.device,
          scans: batch.map(({ nonce, ticket_code, scanned_at, direction }) => ({
            nonce,
            ticket_code,
            scanned_at,
            direction,
          })),
        },
      });
      const results = body?.results;
      if (status === 200 && Array.isArray(results) && results.length === batch.length) {
        await exclusive(() => db("queue", "readwrite", (s) => batch.forEach((scan) => s.delete(scan.nonce))));
        batch.forEach((scan, i) => settle(scan.nonce, results[i].result));
        sent += batch.length;
      } else if (status === 400 && malformed(body, batch).length) {
        // The server can never take these: set aside (kept), the rest go on.
        const bad = malformed(body, batch);
        await db(["queue", "refused"], "readwrite", ({ queue, refused }) => {
          for (const scan of bad) {
            queue.delete(scan.nonce);
            refused.put({ ...scan, reason: problem(body, "malformed") });
          }
        });
        bad.forEach((scan) => settle(scan.nonce, "refused"));
      } else {
        // Refused as a whole (a lost role, an event gone): every scan stays,
        // the header says why, and other events' scans still go.
        reasons.push(problem(body, `the server refused them (HTTP ${status})`));
        refusedEvents.add(eventId);
      }
      await countWaiting();
    }
    state.syncRefused = reasons.join("; ");
  } catch (error) {
    if (!(error instanceof Unreachable)) throw error;
    setReachable(false);
  } finally {
    await countWaiting();
  }
  if (sent && state.event) refreshBundle().catch(() => {});
}

// The batch's scans a 400 names (attr "scans.<index>[.<field>]").
function malformed(body, batch) {
  const indexes = (body?.errors || []).map((e) => /^scans\.(\d+)(\.|$)/.exec(e.attr || "")).filter(Boolean);
  return [...new Set(indexes.map((m) => batch[Number(m[1])]).filter(Boolean))];
}

// The server's verdict on a scan answered offline, shown in the list.
function settle(nonce, result) {
  const entry = state.recent.find((r) => r.nonce === nonce);
  if (entry) entry.settled = result;
}

// ---- The answer on screen -------------------------------------------------------

const TITLES = {
  ok: "OK",
  already_checked_in: "Already in",
  cancelled: "Cancelled ticket",
  not_confirmed: "Not confirmed",
  wrong_event: "Wrong event",
  invalid: "Not a valid ticket",
  event_cancelled: "Event cancelled",
  not_inside: "Not inside",
  forbidden: "Not your door",
  unverifiable: "Can't check offline",
  nonce_reused: "Scan again",
  refused: "Refused by the server",
  error: "Error: scan again",
};

function tone(result) {
  if (result === "ok") return "ok";
  if (result === "already_checked_in") return "already";
  return "refused";
}

function clock(iso) {
  return iso ? new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) : "";
}

function describe(answer) {
  switch (answer.result) {
    case "ok":
      return answer.direction === "out" ? "Exit recorded" : answer.online ? "Checked in" : "Checked in (offline)";
    case "already_checked_in":
      return ["since " + clock(answer.at), answer.by && "by " + answer.by].filter((p) => p && p !== "since ").join(" · ");
    case "wrong_event":
      return answer.otherEvent ? `This ticket is for ${answer.otherEvent}` : "This ticket is for another event";
    case "not_inside":
      return "No entry recorded for this ticket";
    case "cancelled":
      return "This registration was cancelled";
    case "not_confirmed":
      return "On the waiting list, not confirmed";
    case "event_cancelled":
      return "This event was cancelled";
    case "unverifiable":
      return "Only the server can check this code: wait for the network";
    case "forbidden":
      return answer.detail || "";
    default:
      return answer.detail || "";
  }
}

let answerTimer = null;

function show(answer) {
  const kind = tone(answer.result);
  const box = $("answer");
  box.className = kind;
  box.dataset.result = answer.result;
  box.dataset.offline = String(!answer.online);
  $("answer-title").textContent =
    answer.result === "ok" && answer.direction === "out" ? "Goodbye" : TITLES[answer.result] || answer.result;
  $("answer-name").textContent = answer.name || "";
  $("answer-detail").textContent = describe(answer);
  box.hidden = false;
  stopCamera();
  sound(kind);
  clearTimeout(answerTimer);
  answerTimer = setTimeout(dismiss, ANSWER_MS[kind]);
  render();
}

function dismiss() {
  wakeAudio();
  const box = $("answer");
  if (box.hidden) return;
  clearTimeout(answerTimer);
  box.hidden = true;
  lastSeenAt = Date.now(); // the camera was off: the ticket counts as still in view
  if (!$("scan-view").hidden) startCamera();
}

let audio = null;

// Browsers let a page make sounds once someone has touched it.
function wakeAudio() {
  try {
    audio ??= new AudioContext();
    if (audio.state === "suspended") audio.resume().catch(() => {});
  } catch {
    // No sound here.
  }
}

function sound(kind) {
  try {
    audio ??= new AudioContext();
    const notes = { ok: [[880, 0.15]], already: [[600, 0.12], [600, 0.12]], refused: [[180, 0.5]] }[kind];
    let at = audio.currentTime;
    for (const [frequency, length] of notes) {
      const oscillator = audio.createOscillator();
      const gain = audio.createGain();
      oscillator.type = kind === "refused" ? "square" : "sine";
      oscillator.frequency.value = frequency;
      gain.gain.value = 0.25;
      oscillator.connect(gain).connect(audio.destination);
      oscillator.start(at);
      oscillator.stop(at + length);
      at += length + 0.08;
    }
    navigator.vibrate?.(kind === "ok" ? 80 : [200, 100, 200]);
  } catch {
    // No sound here: the colours still say it.
  }
}

// ---- The camera -----------------------------------------------------------------

let stream = null;
let frameTimer = null;
// The code last answered is not read again until it has left the camera's
// view for a moment: a ticket held up a little too long is one scan.
let lastCode = "";
let lastSeenAt = 0;
const canvas = document.createElement("canvas");
const context = canvas.getContext("2d", { willReadFrequently: true });

async function startCamera() {
  if (stream || !navigator.mediaDevices?.getUserMedia) {
    if (!stream) $("camera-note").textContent = "No camera here: type the codes.";
    return;
  }
  try {
    stream = await navigator.mediaDevices.getUserMedia({
      video: { facingMode: "environment", width: { ideal: 1280 } },
      audio: false,
    });
  } catch (error) {
    $("camera-note").textContent = `No camera (${error.name}): type the codes.`;
    return;
  }
  $("camera-note").textContent = "";
  const video = $("video");
  video.srcObject = stream;
  await video.play().catch(() => {});
  readFrame();
}

function stopCamera() {
  clearTimeout(frameTimer);
  stream?.getTracks().forEach((track) => track.stop());
  stream = null;
  $("video").srcObject = null;
}

function readFrame() {
  if (!stream) return;
  const video = $("video");
  if (video.readyState >= 2 && video.videoWidth && window.jsQR) {
    const scale = Math.min(1, 800 / Math.max(video.videoWidth, video.videoHeight));
    canvas.width = Math.round(video.videoWidth * scale);
    canvas.height = Math.round(video.videoHeight * scale);
    context.drawImage(video, 0, 0, canvas.width, canvas.height);
    const image = context.getImageData(0, 0, canvas.width, canvas.height);
    const found = window.jsQR(image.data, image.width, image.height, { inversionAttempts: "attemptBoth" });
    const now = Date.now();
    if (found?.data?.trim()) {
      if (found.data !== lastCode || now - lastSeenAt > 1500) {
        lastCode = found.data;
        lastSeenAt = now;
        scan(found.data); // ends in an answer on screen, whose dismissal restarts the camera
        return;
      }
      lastSeenAt = now;
    }
  }
  frameTimer = setTimeout(readFrame, 100);
}

// ---- Views ----------------------------------------------------------------------

function showView(name) {
  for (const view of ["login-view", "events-view", "scan-view"]) $(view).hidden = view !== name;
  if (name === "scan-view") startCamera();
  else stopCamera();
  render();
}

function render() {
  const net = $("net");
  const waiting = state.waiting;
  const scans = `${waiting} scan${waiting === 1 ? "" : "s"} waiting`;
  net.classList.toggle("offline", !(navigator.onLine && state.reachable));
  net.classList.toggle("blocked", Boolean(state.syncRefused) || (!state.auth && waiting > 0));
  if (!navigator.onLine || !state.reachable) net.textContent = `Offline, ${scans}`;
  else if (!state.auth && waiting) net.textContent = `Log in to send: ${scans}`;
  else if (state.syncRefused && waiting) net.textContent = `Not sent (${state.syncRefused}): ${scans}`;
  else if (waiting) net.textContent = `Online, sending: ${scans}`;
  else net.textContent = "Online, all scans sent";
  $("sign-in-again").hidden = Boolean(state.auth);
  $("event-title").textContent = state.event ? state.event.title : "EventMaster door";
  $("device").textContent = state.device;
  if (state.event) {
    const inside = [...state.people.values()].filter((p) => p.inside).length;
    $("counts").textContent = `${inside} inside of ${state.people.size} attendees`;
  }
  const list = $("recent");
  list.replaceChildren(
    ...state.recent.map((entry) => {
      const item = document.createElement("li");
      const { answer } = entry;
      item.className = tone(answer.result);
      item.dataset.nonce = entry.nonce;
      item.dataset.result = answer.result;
      if (entry.settled) item.dataset.settled = entry.settled;
      const verdict =
        entry.settled && entry.settled !== answer.result
          ? ` → the server says: ${TITLES[entry.settled] || entry.settled}`
          : "";
      const how = answer.online ? "" : entry.settled ? " (offline, sent)" : answer.queue ? " (offline, waiting)" : "";
      item.textContent = `${TITLES[answer.result] || answer.result} ${answer.name}${how}${verdict}`;
      return item;
    }),
  );
}

async function showEvents() {
  showView("events-view");
  $("events-error").textContent = "";
  const list = $("event-list");
  list.replaceChildren();
  let events = [];
  // Events that started up to a week ago (a conference runs for days) or later.
  const after = new Date(Date.now() - 7 * 24 * 3600 * 1000).toISOString();
  try {
    const query = `status=published&ordering=start_at&limit=100&starts_after=${encodeURIComponent(after)}`;
    const { status, body } = await api(`events/managed?${query}`);
    if (status === 401) return showView("login-view");
    events = body?.items || [];
  } catch (error) {
    if (!(error instanceof Unreachable)) throw error;
    setReachable(false);
    // Offline: the events whose bundle this device keeps.
    events = (await db("bundles", "readonly", (s) => s.getAll())).map((b) => b.event);
  }
  const recent = Date.now() - 12 * 3600 * 1000;
  events = events.filter((e) => Date.parse(e.end_at) > recent);
  if (events.length === 0) $("events-error").textContent = "No event for you to run now.";
  for (const event of events) {
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.dataset.eventId = event.id;
    button.textContent = event.title;
    const when = document.createElement("small");
    when.textContent = new Date(event.start_at).toLocaleString();
    button.append(when);
    button.addEventListener("click", () => pickEvent(event.id));
    item.append(button);
    list.append(item);
  }
}

async function pickEvent(eventId) {
  wakeAudio();
  try {
    if (await openEvent(eventId)) return showView("scan-view");
    $("events-error").textContent = "Offline, and this device has no list for that event yet.";
  } catch (error) {
    $("events-error").textContent = error.message;
  }
}

function fail(error) {
  console.error(error);
  $("camera-note").textContent = `Something went wrong: ${error.message}`;
}

// ---- Start ----------------------------------------------------------------------

async function login(event) {
  event.preventDefault();
  wakeAudio();
  $("login-error").textContent = "";
  try {
    const { status, body } = await api("auth/login", {
      method: "POST",
      body: { email: $("email").value, password: $("password").value },
    });
    if (status !== 200) {
      $("login-error").textContent = problem(body, "Could not log in.");
      return;
    }
    await saveLogin({ access: body.access, refresh: body.refresh, user: body.user });
    $("password").value = "";
    syncSoon();
    if (state.event) showView("scan-view");
    else await showEvents();
  } catch (error) {
    if (!(error instanceof Unreachable)) throw error;
    $("login-error").textContent = "The server does not answer: logging in needs it. Try again.";
  }
}

// Logging out forgets the login and the attendee lists (names on a phone
// that may be lost), never a scan not yet sent: those, and what they
// changed, wait for the next login.
async function logout() {
  await sync().catch(() => {});
  await refreshing?.catch(() => {});
  if (state.auth) {
    // The current refresh token at each try (a 401 renews it first).
    const body = () => ({ refresh: state.auth?.refresh });
    await api("auth/logout", { method: "POST", body }).catch(() => {});
  }
  state.generation += 1; // what is still in flight for this login is dropped
  await forgetLogin();
  await exclusive(async () => {
    const queued = await queuedNonces();
    await db(["bundles", "marks"], "readwrite", ({ bundles, marks }) => {
      bundles.clear();
      marks.openCursor().onsuccess = (found) => {
        const cursor = found.target.result;
        if (!cursor) return;
        if (!queued.has(cursor.value.nonce)) cursor.delete();
        cursor.continue();
      };
    });
    forgetEvent();
    state.opening = null;
    state.recent = [];
  });
  await kvDelete("event");
  showView("login-view");
}

async function start() {
  state.device = (await kvGet("device")) || `door-${crypto.randomUUID().slice(0, 6)}`;
  await kvPut("device", state.device);
  state.auth = (await kvGet("auth")) || null;
  await countWaiting();
  $("login-form").addEventListener("submit", (e) => login(e).catch(fail));
  $("logout").addEventListener("click", () => logout().catch(fail));
  $("change-event").addEventListener("click", () => showEvents().catch(fail));
  $("sign-in-again").addEventListener("click", () => showView("login-view"));
  $("answer").addEventListener("click", dismiss);
  $("code-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const code = $("code").value;
    $("code").value = "";
    scan(code).catch(fail);
  });
  for (const [id, direction] of [
    ["dir-in", "in"],
    ["dir-out", "out"],
  ]) {
    $(id).addEventListener("click", () => {
      state.direction = direction;
      $("dir-in").setAttribute("aria-pressed", String(direction === "in"));
      $("dir-out").setAttribute("aria-pressed", String(direction === "out"));
    });
  }
  window.addEventListener("online", () => {
    setReachable(true);
    syncSoon();
  });
  window.addEventListener("offline", () => render());
  document.addEventListener("pointerdown", wakeAudio, { capture: true });
  // Every 15 s online: send what waits, then fetch what changed (both also
  // find out whether the server answers again).
  setInterval(() => {
    if (!navigator.onLine) return;
    sync()
      .then(() => (state.event && state.auth ? refreshBundle() : null))
      .catch((error) => (error instanceof Unreachable ? setReachable(false) : fail(error)));
  }, SYNC_EVERY_MS);
  navigator.serviceWorker?.register(html.dataset.sw).catch(fail);
  // Ask the browser not to evict the queue under storage pressure.
  navigator.storage?.persist?.().catch(() => {});

  const eventId = await kvGet("event");
  if (eventId && (await db("bundles", "readonly", (s) => s.get(eventId)))) {
    try {
      await openEvent(eventId);
    } catch (error) {
      // No longer allowed at that door: pick another.
      await showEvents();
      $("events-error").textContent = error.message;
      return;
    }
    showView("scan-view");
    syncSoon();
  } else if (state.auth) {
    await showEvents();
  } else {
    showView("login-view");
  }
}

start().catch(fail);
