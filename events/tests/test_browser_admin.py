"""An organizer in real headless Chromium: log in to the admin, create an
event with a <script> in its description, publish it with the action, open
the check-in dashboard and see the chart. Screenshots go to
test-artifacts/screenshots/ (git-ignored)."""

import pytest

from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from checkin.services import checkin_scan
from eventmaster.roles import Role
from eventmaster.tests.browser import SHOTS, chromium
from events.models import Event
from registrations.services import registration_create

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def browser():
    with chromium() as browser:
        yield browser


def test_organizer_creates_publishes_and_watches_the_door(browser, live_server):
    organizer = UserFactory(
        email="ada@example.org", full_name="Ada Organizer", roles=[Role.MEMBER, Role.ORGANIZER]
    )
    door = UserFactory(email="dora@example.org", full_name="Dora Door", roles=[Role.MEMBER, Role.CHECKIN])
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    alerts = []
    page.on("dialog", lambda dialog: (alerts.append(dialog.message), dialog.dismiss()))

    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", organizer.email)
    page.fill("#id_password", DEFAULT_PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#site-name")

    page.goto(f"{live_server.url}/admin/events/event/add/")
    page.fill("#id_title", "Browser Night")
    page.fill("#id_description", "<p>Talks</p><script>alert('xss')</script><b onmouseover=alert(2)>Bold</b>")
    page.fill("#id_location", "Hall B")
    page.fill("#id_start_at_0", "2031-03-01")
    page.fill("#id_start_at_1", "18:00:00")
    page.fill("#id_end_at_0", "2031-03-01")
    page.fill("#id_end_at_1", "21:00:00")
    page.fill("#id_capacity", "50")
    # Door staff with the admin's two-box widget: type to filter, then choose.
    page.fill("#id_staff_input", "dora")
    page.select_option("#id_staff_from", str(door.pk))
    page.click("#id_staff_add")
    page.screenshot(path=SHOTS / "1-add-event.png", full_page=True)
    page.click("input[name=_save]")
    page.wait_for_selector("#result_list")

    event = Event.objects.get(title="Browser Night")
    assert event.organizer == organizer and event.status == "draft"
    assert event.description == "<p>Talks</p><b>Bold</b>"
    assert list(event.staff.all()) == [door]

    page.check(f"input[name=_selected_action][value='{event.pk}']")
    page.select_option("select[name=action]", "publish_events")
    page.click("button[name=index]")
    page.wait_for_selector(".messagelist")
    assert "1 event(s) published." in page.inner_text(".messagelist")
    page.screenshot(path=SHOTS / "2-published.png", full_page=True)
    event.refresh_from_db()
    assert event.status == "published"

    for _ in range(5):
        registration = registration_create(event=event, user=UserFactory())
        checkin_scan(ticket_code=registration.ticket_code, event=event, by=organizer)

    page.goto(f"{live_server.url}/admin/events/event/{event.pk}/change/")
    page.click("text=Open the check-in dashboard")
    page.wait_for_selector("svg.em-chart rect")
    assert page.locator("svg.em-chart rect").count() >= 1
    assert "5" in page.inner_text(".em-total >> nth=0")
    page.screenshot(path=SHOTS / "3-dashboard.png", full_page=True)
    assert alerts == [], f"a script ran: {alerts}"
