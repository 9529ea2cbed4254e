"""The admin at conference scale: attendee mails an organizer can check (and
an admin send again), and pages whose queries do not grow with the
registrations."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.tests.factories import UserFactory
from eventmaster.tests.utils import run_tasks
from events.tests.factories import EventFactory
from registrations.models import Mail, Registration
from registrations.services import event_counts_refresh, registration_create

pytestmark = pytest.mark.django_db

MAILS = "/admin/registrations/mail/"


def failed_mail(event) -> Mail:
    registration = registration_create(event=event, user=UserFactory())
    mail = Mail.objects.get(registration=registration)
    Mail.objects.filter(pk=mail.pk).update(
        status="failed", last_error="SMTPRecipientsRefused: 550 no such user"
    )
    return mail


class TestMailAdmin:
    def test_an_organizer_sees_the_undelivered_mails_of_their_events_only(self, client, organizer):
        mine = failed_mail(EventFactory(organizer=organizer, title="Mine"))
        theirs = failed_mail(EventFactory(title="Theirs"))
        client.force_login(organizer)
        page = client.get(MAILS, {"status__exact": "failed"})
        html = page.content.decode()
        assert page.status_code == 200
        assert mine.registration.user.email in html and "550 no such user" in html
        assert theirs.registration.user.email not in html
        assert client.get(f"{MAILS}{theirs.pk}/change/").status_code == 404
        assert client.get(f"{MAILS}{mine.pk}/change/").status_code == 200

    def test_only_admins_may_send_failed_mails_again(
        self, client, organizer, admin_user, django_capture_on_commit_callbacks
    ):
        mine = failed_mail(EventFactory(organizer=organizer))
        client.force_login(organizer)
        assert "send_again" not in client.get(MAILS).content.decode()
        client.force_login(admin_user)
        assert "send_again" in client.get(MAILS).content.decode()
        with django_capture_on_commit_callbacks(execute=True):
            answer = client.post(
                MAILS, {"action": "send_again", "_selected_action": [str(mine.pk)]}, follow=True
            )
        assert "1 failed mail(s) queued to be sent again" in answer.content.decode()
        run_tasks()
        mine.refresh_from_db()
        assert mine.status == "sent"


def fill(event, count: int) -> None:
    """``count`` confirmed registrations in one INSERT (and their mails)."""
    users = UserFactory.create_batch(count)
    registrations = Registration.objects.bulk_create(
        [Registration(event=event, user=user, status="confirmed") for user in users]
    )
    now = timezone.now()
    Mail.objects.bulk_create(
        [
            Mail(registration=r, kind="confirmed", status="sent", sent_at=now, give_up_at=now)
            for r in registrations
        ]
    )
    event_counts_refresh(events=type(event).objects.filter(pk=event.pk))


@pytest.mark.parametrize(
    "page",
    [
        "/admin/events/event/{event}/change/",
        "/admin/events/event/",
        "/admin/registrations/registration/?event__id__exact={event}",
        "/admin/registrations/mail/",
    ],
)
def test_admin_pages_run_the_same_queries_for_5_or_60_registrations(client, admin_user, page):
    counts = []
    for size in (5, 60):
        event = EventFactory(capacity=100)
        fill(event, size)
        client.force_login(admin_user)
        client.get(page.format(event=event.pk))  # warm: the session, the content types
        with CaptureQueriesContext(connection) as queries:
            answer = client.get(page.format(event=event.pk))
        assert answer.status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
