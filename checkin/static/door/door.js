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
  version: null,
  keys: new Map(), // key id -> {raw: Uint8Array, key: Promise<CryptoKey|null>}
  people: new Map(), // ticket id -> {name, checked_in_at, inside, device}
  revoked: new Set(),
  waiting: 0,
  reachable: navigator.onLine,
  syncing: false,
  syncRefused: "",
  recent: [], // the last scans: {nonce, code, answer}
};

// ---- IndexedDB: kv (auth, device, event), bundles, queue, marks -------------

const DB = new Promise((resolve, reject) => {
  const request = indexedDB.open("eventmaster-door", 1);
  request.onupgradeneeded = () => {
    const db = request.result;
    db.createObjectStore("kv");
    db.createObjectStore("bundles", { keyPath: "event.id" });
    db.createObjectStore("queue", { keyPath: "nonce" });
    // What this device did offline, laid over the bundle until the server's
    // next bundle says it too.
    db.createObjectStore("marks", { keyPath: ["event_id", "ticket_id"] });
  };
  request.onsuccess = () => resolve(request.result);
  request.onerror = () => reject(request.error);
});

async function db(name, mode, work) {
  const database = await DB;
  return new Promise((resolve, reject) => {
    const transaction = database.transaction(name, mode);
    const request = work(transaction.objectStore(name));
    transaction.oncomplete = () => resolve(request ? request.result : undefined);
    transaction.onerror = () => reject(transaction.error);
    transaction.onabort = () => reject(transaction.error);
  });
}
const kvGet = (key) => db("kv", "readonly", (s) => s.get(key));
const kvPut = (key, value) => db("kv", "readwrite", (s) => s.put(value, key));
const kvDelete = (key) => db("kv", "readwrite", (s) => s.delete(key));

// ---- The API ------------------------------------------------------------------

// The server could not be reached, or failed (5xx, 429): answer offline.
class Unreachable extends Error {}

async function api(path, { method = "GET", body, timeout = 5000 } = {}) {
  const send = async () => {
    const headers = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (state.auth) headers.Authorization = `Bearer ${state.auth.access}`;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeout);
    try {
      return await fetch(API + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: controller.signal,
        cache: "no-store",
      });
    } catch (error) {
      throw new Unreachable(String(error));
    } finally {
      clearTimeout(timer);
    }
  };
  let response = await send();
  if (response.status === 401 && state.auth && !path.startsWith("auth/") && (await refreshToken())) {
    response = await send();
  }
  if (response.status >= 500 || response.status === 429) throw new Unreachable(`HTTP ${response.status}`);
  setReachable(true);
  return response;
}

async function refreshToken() {
  const response = await api("auth/refresh", { method: "POST", body: { refresh: state.auth.refresh } });
  if (!response.ok) {
    await forgetLogin(); // expired or logged out elsewhere: the scans stay queued
    return false;
  }
  const tokens = await response.json();
  await saveLogin({ ...state.auth, access: tokens.access, refresh: tokens.refresh });
  return true;
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
    if (reachable) sync();
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

let noble = null; // @noble/ed25519, loaded only where WebCrypto lacks Ed25519

async function webCryptoKey(raw) {
  try {
    return await crypto.subtle.importKey("raw", raw, { name: "Ed25519" }, false, ["verify"]);
  } catch {
    return null;
  }
}

async function signatureGood(ticket) {
  const key = state.keys.get(ticket.kid);
  if (!key) return false;
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

async function openEvent(eventId) {
  const saved = await db("bundles", "readonly", (s) => s.get(eventId));
  if (saved) useBundle(saved, await eventMarks(eventId));
  await kvPut("event", eventId);
  try {
    await refreshBundle(eventId);
  } catch (error) {
    if (!(error instanceof Unreachable)) throw error;
    setReachable(false);
  }
  return state.event !== null;
}

const eventMarks = (eventId) =>
  db("marks", "readonly", (s) => s.getAll(IDBKeyRange.bound([eventId, ""], [eventId, "\uffff"])));

async function refreshBundle(eventId = state.event.id) {
  const asked = Date.now();
  const saved = await db("bundles", "readonly", (s) => s.get(eventId));
  const since = saved ? `?since=${encodeURIComponent(saved.version)}` : "";
  const response = await api(`events/${eventId}/door-bundle${since}`, { timeout: 60000 });
  if (response.status === 401) {
    await forgetLogin(); // keep the saved bundle; scans wait for a new login
    return;
  }
  if (response.status === 403 || response.status === 404) {
    const problem = await response.json();
    throw new Error(problem.detail || "You may not run this door.");
  }
  if (!response.ok) throw new Unreachable(`HTTP ${response.status}`);
  const delta = await response.json();
  let bundle = delta;
  if (!delta.full && saved) {
    // Changed or new attendees replace theirs; cancelled ones leave the list.
    const attendees = new Map(saved.attendees.map((a) => [a.ticket_id, a]));
    for (const a of delta.attendees) attendees.set(a.ticket_id, a);
    for (const id of delta.revoked) attendees.delete(id);
    const revoked = new Set([...saved.revoked, ...delta.revoked]);
    for (const a of delta.attendees) revoked.delete(a.ticket_id);
    bundle = { ...delta, attendees: [...attendees.values()], revoked: [...revoked] };
  }
  await db("bundles", "readwrite", (s) => s.put(bundle));
  await forgetMarks(eventId, asked);
  if (!state.event || state.event.id === eventId) useBundle(bundle, await eventMarks(eventId));
  render();
}

// ---- Scans --------------------------------------------------------------------

async function scan(code) {
  code = code.trim();
  if (!code || !state.event) return;
  const attempt = {
    nonce: crypto.randomUUID(),
    event_id: state.event.id,
    ticket_code: code,
    scanned_at: new Date().toISOString(),
    direction: state.direction,
  };
  let answer = null;
  // After a failure, scans are answered here until the server answers
  // again (a sync or a bundle refresh finds out, every 15 s at the latest):
  // a door with a dead link must not wait for a timeout at every ticket.
  if (state.auth && navigator.onLine && state.reachable) {
    try {
      answer = await scanOnline(attempt);
    } catch (error) {
      if (!(error instanceof Unreachable)) throw error;
      setReachable(false);
    }
  }
  if (answer === null) {
    answer = await scanOffline(attempt);
    // The server may have recorded it before the answer was lost: the
    // same nonce makes sending it again safe.
    if (answer.queue) await queueScan(attempt);
  }
  state.recent.unshift({ nonce: attempt.nonce, code, answer });
  state.recent.length = Math.min(state.recent.length, 30);
  show(answer);
}

async function scanOnline(attempt) {
  const response = await api("checkin", {
    method: "POST",
    body: { ...attempt, device: state.device },
    timeout: 3000,
  });
  if (response.status === 401) return null; // logged out: answer offline, send later
  const body = await response.json();
  if (response.status === 403) return { result: "forbidden", detail: body.detail };
  if (response.status !== 200) return { result: "invalid", detail: body.detail };
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
    await mark(ticketId, person, attempt.nonce);
  }
  return answer;
}

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

async function scanOffline(attempt) {
  const ticket = readTicket(attempt.ticket_code);
  const answer = (result, person = {}, queue = true) => ({
    result,
    direction: attempt.direction,
    name: person.name || "",
    at: person.checked_in_at || null,
    by: person.device || "",
    online: false,
    queue,
  });
  if (ticket === null) return answer("unverifiable", {}, false); // a random code needs the server
  if (!ticket.readable) return answer("invalid");
  if (ticket.event_id !== state.event.id) return answer("wrong_event");
  if (!(await signatureGood(ticket))) return answer("invalid");
  if (state.event.status === "cancelled") return answer("event_cancelled");
  if (state.revoked.has(ticket.ticket_id)) return answer("cancelled", state.people.get(ticket.ticket_id));
  // A good signature not in the bundle: confirmed after the bundle was made
  // (only confirmed registrations get signed tickets).
  const person = state.people.get(ticket.ticket_id) || { name: "", inside: false };
  if (attempt.direction === "out") {
    if (!person.inside) return answer("not_inside", person);
    await mark(ticket.ticket_id, { ...person, inside: false }, attempt.nonce);
    return answer("ok", person);
  }
  if (person.inside) return answer("already_checked_in", person);
  const entered = { ...person, inside: true, checked_in_at: attempt.scanned_at, device: state.device };
  await mark(ticket.ticket_id, entered, attempt.nonce);
  return answer("ok", person);
}

// What a scan changed, kept over the bundle (and a reload) until a bundle
// asked for after it, and after the scan reached the server, says it too.
async function mark(ticketId, person, nonce) {
  state.people.set(ticketId, person);
  const record = { event_id: state.event.id, ticket_id: ticketId, person, nonce, at: Date.now() };
  await db("marks", "readwrite", (s) => s.put(record));
}

async function forgetMarks(eventId, before) {
  const waiting = new Set(await db("queue", "readonly", (s) => s.getAllKeys()));
  const stale = (await eventMarks(eventId)).filter((m) => m.at < before && !waiting.has(m.nonce));
  await db("marks", "readwrite", (s) => stale.forEach((m) => s.delete([m.event_id, m.ticket_id])));
}

async function queueScan(attempt) {
  await db("queue", "readwrite", (s) => s.put(attempt));
  await countWaiting();
}

async function countWaiting() {
  state.waiting = await db("queue", "readonly", (s) => s.count());
  render();
}

// ---- Sync -----------------------------------------------------------------------

async function sync() {
  if (state.syncing || !state.auth || !navigator.onLine) return;
  state.syncing = true;
  let sent = 0;
  try {
    for (;;) {
      const waiting = await db("queue", "readonly", (s) => s.getAll());
      if (waiting.length === 0) break;
      const eventId = waiting[0].event_id;
      const batch = waiting
        .filter((s) => s.event_id === eventId)
        .sort((a, b) => a.scanned_at.localeCompare(b.scanned_at))
        .slice(0, BATCH_SIZE);
      const response = await api("checkin/batch", {
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
      if (response.status !== 200) {
        // Refused (a lost role, say): keep every scan and say why.
        const problem = await response.json().catch(() => ({}));
        state.syncRefused = problem.detail || `the server refused them (HTTP ${response.status})`;
        break;
      }
      state.syncRefused = "";
      const { results } = await response.json();
      await db("queue", "readwrite", (s) => batch.forEach((scan) => s.delete(scan.nonce)));
      results.forEach((result, i) => settle(batch[i].nonce, result));
      sent += batch.length;
      await countWaiting();
    }
  } catch (error) {
    if (!(error instanceof Unreachable)) throw error;
    setReachable(false);
  } finally {
    state.syncing = false;
    await countWaiting();
  }
  if (sent && state.event) await refreshBundle().catch(() => {});
}

// The server's verdict on a scan answered offline, shown in the list.
function settle(nonce, result) {
  const entry = state.recent.find((r) => r.nonce === nonce);
  if (entry) entry.settled = result.result;
  render();
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
      return "Scan the QR code, or wait for the network";
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
  const box = $("answer");
  if (box.hidden) return;
  clearTimeout(answerTimer);
  box.hidden = true;
  lastSeenAt = Date.now(); // the camera was off: the ticket counts as still in view
  if (!$("scan-view").hidden) startCamera();
}

let audio = null;

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
    if (found?.data) {
      if (found.data !== lastCode || now - lastSeenAt > 1500) {
        lastCode = found.data;
        lastSeenAt = now;
        scan(found.data).catch(fail);
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
  try {
    const response = await api("events/managed?status=published&ordering=start_at&limit=100");
    if (response.status === 401) return showView("login-view");
    events = (await response.json()).items || [];
  } catch (error) {
    if (!(error instanceof Unreachable)) throw error;
    setReachable(false);
    // Offline: the events whose bundle this device keeps.
    events = (await db("bundles", "readonly", (s) => s.getAll())).map((b) => b.event);
  }
  const soon = Date.now() - 12 * 3600 * 1000;
  events = events.filter((e) => Date.parse(e.end_at) > soon);
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
  sound("ok"); // a tap: the browser lets the page make sounds from now on
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
  $("login-error").textContent = "";
  try {
    const response = await api("auth/login", {
      method: "POST",
      body: { email: $("email").value, password: $("password").value },
    });
    const body = await response.json();
    if (!response.ok) {
      $("login-error").textContent = body.detail || "Could not log in.";
      return;
    }
    await saveLogin({ access: body.access, refresh: body.refresh, user: body.user });
    $("password").value = "";
    sync();
    if (state.event) showView("scan-view");
    else await showEvents();
  } catch (error) {
    if (!(error instanceof Unreachable)) throw error;
    $("login-error").textContent = "No network: logging in needs it.";
  }
}

// Logging out forgets the login and the attendee lists (names on a phone
// that may be lost), never a scan not yet sent: those wait for the next login.
async function logout() {
  await sync();
  const refresh = state.auth?.refresh;
  if (refresh) await api("auth/logout", { method: "POST", body: { refresh } }).catch(() => {});
  await forgetLogin();
  await kvDelete("event");
  for (const name of ["bundles", "marks"]) await db(name, "readwrite", (s) => s.clear());
  Object.assign(state, { event: null, version: null, people: new Map(), revoked: new Set(), recent: [] });
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
    sync();
  });
  window.addEventListener("offline", () => render());
  setInterval(() => {
    if (!navigator.onLine) return;
    if (state.waiting) sync();
    else if (state.event && state.auth) refreshBundle().catch(() => {});
  }, SYNC_EVERY_MS);
  navigator.serviceWorker?.register(html.dataset.sw).catch(fail);

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
    sync();
  } else if (state.auth) {
    await showEvents();
  } else {
    showView("login-view");
  }
}

start().catch(fail);
