"""The door page in real headless Chromium with a fake camera that films QR
codes the tests make (checkin/tests/camera.py): a scan online, three scans
with the network gone, the queue sent when it is back, and two devices
offline that both let the same ticket in, of which the server keeps one.
Screenshots of every state go to test-artifacts/screenshots/door-*.png."""

from __future__ import annotations

import time
import uuid

import pytest

from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from checkin.models import Scan
from eventmaster.roles import Role
from eventmaster.tests.browser import SHOTS, chromium
from events.tests.factories import EventFactory
from registrations import signing
from registrations.models import Registration
from registrations.services import registration_cancel, registration_create

from .camera import show

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WAIT_MS = 20_000


@pytest.fixture
def camera(tmp_path):
    video = tmp_path / "camera.y4m"
    show(video, None)
    return video


@pytest.fixture
def browser(camera):
    with chromium(
        "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream",
        f"--use-file-for-fake-video-capture={camera}",
    ) as browser:
        yield browser


@pytest.fixture
def door():
    """An event, a volunteer assigned to its door, and signed tickets."""
    volunteer = UserFactory(
        email="dora@example.org", full_name="Dora Door", roles=[Role.MEMBER, Role.CHECKIN]
    )
    event = EventFactory(title="Door Night", capacity=50)
    event.staff.add(volunteer)
    people = {
        name: registration_create(event=event, user=UserFactory(full_name=name))
        for name in ("Xena Online", "Ann Offline", "Carl Cancelled", "Bob Twice")
    }
    tickets = {name: signing.sign(registration) for name, registration in people.items()}
    # Rotated after: every ticket is signed by a retired key, which devices
    # keep (the bundle has it) and still accept.
    signing.ticket_key_rotate(event.pk)
    registration_cancel(registration=people["Carl Cancelled"], by=event.organizer)
    return event, volunteer, people, tickets


# A browser whose WebCrypto has no Ed25519 (Safari before 17, older phones):
# the page verifies tickets with the vendored @noble/ed25519 instead.
NO_WEBCRYPTO_ED25519 = """
const importKey = crypto.subtle.importKey.bind(crypto.subtle);
crypto.subtle.importKey = (format, data, algorithm, ...rest) =>
  (algorithm && (algorithm.name || algorithm)) === "Ed25519"
    ? Promise.reject(new DOMException("Ed25519", "NotSupportedError"))
    : importKey(format, data, algorithm, ...rest);
"""


# How many records each of the page's IndexedDB stores holds.
STORED = """
(names) => new Promise((resolve) => {
  indexedDB.open("eventmaster-door").onsuccess = async (opened) => {
    const db = opened.target.result;
    const count = (name) => new Promise((done) => {
      db.transaction(name).objectStore(name).count().onsuccess = (e) => done(e.target.result);
    });
    const counts = {};
    for (const name of names) counts[name] = await count(name);
    db.close();
    resolve(counts);
  };
})
"""


def open_door(browser, live_server, volunteer, event, init_script=None):
    """A new device (browser context): log in, pick the event, wait until
    the service worker controls the page."""
    context = browser.new_context(viewport={"width": 412, "height": 860}, permissions=["camera"])
    if init_script:
        context.add_init_script(init_script)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{live_server.url}/door/")
    page.fill("#email", volunteer.email)
    page.fill("#password", DEFAULT_PASSWORD)
    page.click("#login-form button[type=submit]")
    page.click(f"button[data-event-id='{event.pk}']", timeout=WAIT_MS)
    page.wait_for_selector("#scan-view:not([hidden])")
    page.wait_for_function("navigator.serviceWorker.controller !== null", timeout=WAIT_MS)
    return context, page, errors


def answer(page, result, *, offline):
    box = page.wait_for_selector(f"#answer[data-result='{result}']:not([hidden])", timeout=WAIT_MS)
    assert box.get_attribute("data-offline") == ("true" if offline else "false")
    return box


def next_ticket(page, camera, text, shot, before_next=None):
    """Put the next ticket before the camera while the answer is on screen,
    keep a picture of that answer, then tap it away (the camera restarts)."""
    show(camera, text)
    page.screenshot(path=SHOTS / shot)
    if before_next is not None:
        before_next()
    page.evaluate("document.getElementById('answer').click()")


def type_code(page, code, result, *, offline):
    page.evaluate("document.getElementById('answer').click()")
    page.fill("#code", code)
    page.click("#code-form button")
    return answer(page, result, offline=offline)


def net(page, text):
    page.wait_for_function(
        "text => document.getElementById('net').textContent === text", arg=text, timeout=WAIT_MS
    )


def test_online_scan_offline_scans_and_sync(browser, camera, live_server, door):
    event, volunteer, _people, tickets = door
    show(camera, tickets["Xena Online"])
    context, page, errors = open_door(browser, live_server, volunteer, event)

    # Installable: Chromium reads the manifest without a complaint and finds
    # nothing missing but a profile that is not incognito (a test's is).
    cdp = context.new_cdp_session(page)
    manifest = cdp.send("Page.getAppManifest")
    assert manifest["url"].endswith("/door/manifest.webmanifest") and manifest["errors"] == []
    missing = cdp.send("Page.getInstallabilityErrors")["installabilityErrors"]
    assert [e["errorId"] for e in missing] in ([], ["in-incognito"])

    # Online: the server answers.
    answer(page, "ok", offline=False)
    assert page.inner_text("#answer-name") == "Xena Online"
    # The network goes (before the camera restarts on Ann): answers come
    # from the bundle, scans queue up.
    offline = lambda: context.set_offline(True)  # noqa: E731
    next_ticket(page, camera, tickets["Ann Offline"], "door-1-online-ok.png", before_next=offline)
    answer(page, "ok", offline=True)
    assert page.inner_text("#answer-name") == "Ann Offline"
    next_ticket(page, camera, tickets["Carl Cancelled"], "door-2-offline-ok.png")
    answer(page, "cancelled", offline=True)
    assert page.inner_text("#answer-title") == "Cancelled ticket"
    next_ticket(page, camera, tickets["Ann Offline"], "door-3-offline-cancelled.png")
    answer(page, "already_checked_in", offline=True)
    assert page.inner_text("#answer-name") == "Ann Offline"
    assert "by door-" in page.inner_text("#answer-detail")  # this device, offline
    next_ticket(page, camera, None, "door-4-offline-already-in.png")
    net(page, "Offline, 3 scans waiting")
    assert Scan.objects.filter(event=event).count() == 1  # only the online scan reached the server

    # The page and its queue outlive a reload without the network.
    page.reload()
    page.wait_for_selector("#scan-view:not([hidden])", timeout=WAIT_MS)
    net(page, "Offline, 3 scans waiting")
    assert page.inner_text("#counts") == "2 inside of 3 attendees"
    page.screenshot(path=SHOTS / "door-5-offline-waiting.png")

    # Back online: the queue is sent by itself.
    context.set_offline(False)
    net(page, "Online, all scans sent")
    page.screenshot(path=SHOTS / "door-6-synced.png")
    checked_in = Registration.objects.filter(event=event, checked_in_at__isnull=False)
    assert sorted(r.user.full_name for r in checked_in) == ["Ann Offline", "Xena Online"]
    device = page.inner_text("#device")
    log = list(Scan.objects.filter(event=event).order_by("created_at").values_list("result", "device"))
    assert log == [
        ("ok", device),
        ("ok", device),
        ("cancelled", device),
        ("already_checked_in", device),
    ]

    # Logging out forgets the attendee list (names on a phone), with nothing
    # left to send.
    page.click("#change-event")
    page.click("#logout")
    page.wait_for_selector("#login-view:not([hidden])")
    assert page.evaluate(STORED, ["bundles", "marks", "queue"]) == {"bundles": 0, "marks": 0, "queue": 0}
    assert errors == []
    context.close()


def test_two_devices_offline_let_a_ticket_in_once(browser, camera, live_server, door):
    event, volunteer, people, tickets = door
    first, first_page, first_errors = open_door(browser, live_server, volunteer, event)
    second, second_page, second_errors = open_door(
        browser, live_server, volunteer, event, init_script=NO_WEBCRYPTO_ED25519
    )
    # Both leave the scanner (their cameras stop: one fake camera serves the
    # whole browser, and it reads its file again only when it starts).
    for page in (first_page, second_page):
        page.click("#change-event")
        page.wait_for_selector("#events-view:not([hidden])")
    for context in (first, second):
        context.set_offline(True)
    show(camera, tickets["Bob Twice"])
    # Reopened without the network (from the service worker), each goes back
    # to its event, starts its camera and lets Bob in.
    for page in (first_page, second_page):
        page.reload()
        answer(page, "ok", offline=True)
        assert page.inner_text("#answer-name") == "Bob Twice"
        net(page, "Offline, 1 scan waiting")
    show(camera, None)
    second_page.screenshot(path=SHOTS / "door-7-second-device-offline-ok.png")
    noble = "performance.getEntriesByType('resource').some(e => e.name.includes('noble-ed25519'))"
    assert second_page.evaluate(noble) and not first_page.evaluate(noble)

    # Typed on the second device: a signed ticket altered by one character
    # is refused (and sent, for the log); a random code cannot be checked
    # offline (and is not queued: nobody was let in on it).
    second_page.evaluate("document.getElementById('answer').click()")
    code = tickets["Bob Twice"]
    second_page.fill("#code", code[:-1] + ("A" if code[-1] != "A" else "B"))
    second_page.click("#code-form button")
    answer(second_page, "invalid", offline=True)
    second_page.evaluate("document.getElementById('answer').click()")
    second_page.fill("#code", people["Ann Offline"].ticket_code)
    second_page.click("#code-form button")
    answer(second_page, "unverifiable", offline=True)
    second_page.screenshot(path=SHOTS / "door-8-offline-random-code.png")
    net(second_page, "Offline, 2 scans waiting")

    first.set_offline(False)
    net(first_page, "Online, all scans sent")
    second.set_offline(False)
    net(second_page, "Online, all scans sent")
    second_page.evaluate("document.getElementById('answer').click()")
    second_page.wait_for_selector("#recent li[data-settled='already_checked_in']")
    second_page.screenshot(path=SHOTS / "door-9-second-device-synced.png")
    assert first_page.query_selector("#recent li[data-settled='ok']")

    bob = people["Bob Twice"]
    results = sorted(Scan.objects.filter(registration=bob).values_list("result", flat=True))
    assert results == ["already_checked_in", "ok"]
    devices = {page.inner_text("#device") for page in (first_page, second_page)}
    assert set(Scan.objects.filter(registration=bob).values_list("device", flat=True)) == devices
    assert Scan.objects.filter(event=event, result="invalid").count() == 1
    assert Scan.objects.filter(event=event).count() == 3
    bob.refresh_from_db()
    assert bob.checked_in_device == first_page.inner_text("#device")
    assert first_errors == second_errors == []


def test_a_failing_server_is_offline_until_it_answers_again(browser, live_server, door):
    event, volunteer, _people, tickets = door
    context, page, errors = open_door(browser, live_server, volunteer, event)
    # A scan gets no answer at all (a dead link behind working Wi-Fi); a
    # batch gets a 503.
    page.route("**/api/v1/checkin", lambda route: None)
    page.route("**/api/v1/checkin/batch", lambda route: route.fulfill(status=503, json={"detail": "down"}))
    type_code(page, tickets["Xena Online"], "ok", offline=True)  # after 3 s, from the bundle
    net(page, "Offline, 1 scan waiting")
    # The next ones are answered at once, not after a timeout each.
    started = time.monotonic()
    type_code(page, tickets["Ann Offline"], "ok", offline=True)
    assert time.monotonic() - started < 2
    type_code(page, tickets["Ann Offline"], "already_checked_in", offline=True)
    assert Scan.objects.count() == 0
    page.unroute("**/api/v1/checkin")
    page.unroute("**/api/v1/checkin/batch")
    net(page, "Online, all scans sent")  # the next try, within 15 s
    assert Registration.objects.filter(event=event, checked_in_at__isnull=False).count() == 2
    assert sorted(Scan.objects.values_list("result", flat=True)) == ["already_checked_in", "ok", "ok"]
    assert errors == []
    context.close()


def test_exits_other_events_and_a_cancel_learnt_online(browser, live_server, door):
    event, volunteer, people, tickets = door
    other = EventFactory(title="Other Night")
    other.staff.add(volunteer)
    context, page, errors = open_door(browser, live_server, volunteer, other)
    # Another event picked after: its tickets are its own, not "wrong event".
    page.click("#change-event")
    page.click(f"button[data-event-id='{event.pk}']", timeout=WAIT_MS)
    page.wait_for_selector("#scan-view:not([hidden])")
    xena = tickets["Xena Online"]
    type_code(page, xena, "ok", offline=False)
    page.click("#dir-out")
    type_code(page, xena, "ok", offline=False)
    assert page.inner_text("#answer-title") == "Goodbye"
    page.screenshot(path=SHOTS / "door-10-exit.png")
    type_code(page, xena, "not_inside", offline=False)

    # Ann is cancelled on the server; the device learns it with its next
    # bundle (here: picking the event again), then loses the network.
    registration_cancel(registration=people["Ann Offline"], by=event.organizer)
    page.click("#change-event")
    page.click(f"button[data-event-id='{event.pk}']", timeout=WAIT_MS)
    page.wait_for_selector("#scan-view:not([hidden])")
    context.set_offline(True)
    page.click("#dir-in")
    type_code(page, tickets["Ann Offline"], "cancelled", offline=True)
    page.click("#dir-out")
    type_code(page, xena, "not_inside", offline=True)  # her exit came with the bundle
    page.click("#dir-in")
    type_code(page, xena, "ok", offline=True)  # back in
    page.click("#dir-out")
    type_code(page, xena, "ok", offline=True)  # and out again
    page.click("#dir-in")
    type_code(page, xena, "ok", offline=True)
    net(page, "Offline, 5 scans waiting")
    context.set_offline(False)
    net(page, "Online, all scans sent")
    xena_row = people["Xena Online"]
    xena_row.refresh_from_db()
    assert xena_row.inside
    log = list(Scan.objects.filter(event=event).order_by("id").values_list("action", "result"))
    assert log == [
        ("checkin", "ok"), ("checkout", "ok"), ("checkout", "not_inside"),
        ("checkin", "cancelled"), ("checkout", "not_inside"), ("checkin", "ok"), ("checkout", "ok"),
        ("checkin", "ok"),
    ]  # fmt: skip
    assert errors == []
    context.close()


# The stores of the page's first release (IndexedDB version 1), with one
# scan that had not been sent when the phone took the new release.
FIRST_RELEASE = """
([scan]) => new Promise((resolve, reject) => {
  const request = indexedDB.open("eventmaster-door", 1);
  request.onupgradeneeded = () => {
    const db = request.result;
    db.createObjectStore("kv");
    db.createObjectStore("bundles", { keyPath: "event.id" });
    db.createObjectStore("queue", { keyPath: "nonce" });
    db.createObjectStore("marks", { keyPath: ["event_id", "ticket_id"] });
  };
  request.onsuccess = () => {
    const db = request.result;
    const transaction = db.transaction("queue", "readwrite");
    transaction.objectStore("queue").put(scan);
    transaction.oncomplete = () => { db.close(); resolve(true); };
    transaction.onerror = () => reject(transaction.error);
  };
  request.onerror = () => reject(request.error);
})
"""


def test_a_new_release_keeps_the_scans_waiting(browser, live_server, door):
    event, volunteer, people, tickets = door
    context = browser.new_context(viewport={"width": 412, "height": 860}, permissions=["camera"])
    page = context.new_page()
    page.goto(f"{live_server.url}/healthz")  # the same origin, without the page
    waiting = {
        "nonce": "6f1c0a52-8d7e-4c1b-9a51-2f3d4e5a6b7c",
        "event_id": str(event.pk),
        "ticket_code": tickets["Xena Online"],
        "scanned_at": "2026-12-03T09:41:07.000Z",
        "direction": "in",
    }
    assert page.evaluate(FIRST_RELEASE, [waiting])
    page.goto(f"{live_server.url}/door/")
    net(page, "Log in to send: 1 scan waiting")
    page.fill("#email", volunteer.email)
    page.fill("#password", DEFAULT_PASSWORD)
    page.click("#login-form button[type=submit]")
    net(page, "Online, all scans sent")
    (scan,) = Scan.objects.all()
    assert (str(scan.nonce), scan.result, scan.registration_id) == (
        waiting["nonce"],
        "ok",
        people["Xena Online"].pk,
    )
    # And the new release's stores work (a scan counts the event's queue by
    # the index version 2 added).
    page.click(f"button[data-event-id='{event.pk}']", timeout=WAIT_MS)
    type_code(page, tickets["Ann Offline"], "ok", offline=False)
    context.close()


QUEUE = """
(scans) => new Promise((resolve, reject) => {
  indexedDB.open("eventmaster-door").onsuccess = (opened) => {
    const db = opened.target.result;
    const transaction = db.transaction("queue", "readwrite");
    for (const scan of scans) transaction.objectStore("queue").put(scan);
    transaction.oncomplete = () => { db.close(); resolve(true); };
    transaction.onerror = () => reject(transaction.error);
  };
})
"""


def test_a_scan_the_server_refuses_does_not_hold_up_the_others(browser, live_server, door):
    event, volunteer, _people, tickets = door
    context, page, errors = open_door(browser, live_server, volunteer, event)
    scan = {"event_id": str(event.pk), "scanned_at": "2026-12-03T09:41:07.000Z", "direction": "in"}
    broken = {
        **scan,
        "nonce": "0b4f9e1e-2a49-4c4e-8d4e-6a0f3b2c1d00",
        "ticket_code": "X",
        "scanned_at": "soon",
    }
    good = {**scan, "nonce": "0b4f9e1e-2a49-4c4e-8d4e-6a0f3b2c1d01", "ticket_code": tickets["Xena Online"]}
    assert page.evaluate(QUEUE, [broken, good])
    page.reload()  # the queue is sent at start
    net(page, "Online, all scans sent")
    assert list(Scan.objects.values_list("nonce", "result")) == [(uuid.UUID(good["nonce"]), "ok")]
    # Kept on the phone, never sent again.
    assert page.evaluate(STORED, ["refused", "queue"]) == {"refused": 1, "queue": 0}
    assert errors == []
    context.close()
