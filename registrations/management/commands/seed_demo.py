"""Demo data for a new installation: users of every role, a dozen events
across statuses, registrations. Idempotent: a second run changes nothing.
Everything is written through the services, as the API would."""

from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.services import user_create
from eventmaster.audit import AuditedCommand
from eventmaster.roles import Role
from events import services as events
from events.models import Event
from registrations.models import Registration
from registrations.services import registration_create

DEMO_PASSWORD = "open-sesame-2026"  # noqa: S105 - printed for the demo on purpose
DOMAIN = "demo.example.org"

USERS = [
    ("admin", "Alex Admin", [Role.MEMBER, Role.ADMIN]),
    ("ada", "Ada Organizer", [Role.MEMBER, Role.ORGANIZER]),
    ("grace", "Grace Organizer", [Role.MEMBER, Role.ORGANIZER]),
    ("door", "Dana Door", [Role.MEMBER, Role.CHECKIN]),
] + [(f"member{n:02d}", f"Member {n:02d}", [Role.MEMBER]) for n in range(1, 21)]

# (organizer, title, days from now, capacity, waitlist, status, registrations, door staff)
EVENTS = [
    ("ada", "Django Meetup: ORM deep dive", 3, 10, True, "published", 13, True),
    ("ada", "Python Beginners Workshop", 5, 12, True, "published", 11, True),
    ("ada", "Testing with pytest", 9, 30, True, "published", 6, False),
    ("ada", "Async Python Evening", 14, 40, False, "published", 4, False),
    ("ada", "Open Source Sprint", 21, 25, True, "published", 2, False),
    ("ada", "Draft: Winter Conference", 60, 200, True, "draft", 0, True),
    ("grace", "Data Science Lightning Talks", 4, 50, True, "published", 8, False),
    ("grace", "Rust for Pythonistas", 11, 15, False, "published", 3, False),
    ("grace", "Accessibility in Web Apps", 18, 35, True, "published", 5, False),
    ("grace", "Cancelled: Summer Picnic", 7, 60, True, "cancelled", 0, False),
    ("grace", "Draft: Hack Night", 30, 20, True, "draft", 0, False),
    ("grace", "Last Month's Retro", -30, 25, True, "published", 5, False),
]


class Command(AuditedCommand):
    help = "Create idempotent demo data (users of every role, events, registrations) and print the logins."

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        users = {handle: self._user(handle, name, roles) for handle, name, roles in USERS}
        members = [users[f"member{n:02d}"] for n in range(1, 21)]
        created = sum(self._event(users, members, *spec) for spec in EVENTS)
        self.stdout.write(
            f"Demo data ready: {len(users)} users, {Event.objects.count()} events "
            f"({created} new), {Registration.objects.count()} registrations."
        )
        self.stdout.write(f"Log in (password for all: {DEMO_PASSWORD}):")
        for handle, _name, roles in USERS[:5]:
            role = ", ".join(r for r in roles if r != Role.MEMBER) or "member"
            self.stdout.write(f"  {f'{handle}@{DOMAIN}':<28} {role}")
        self.stdout.write(f"  ... and member02 to member20@{DOMAIN}")

    def _user(self, handle: str, name: str, roles: list[Role]) -> User:
        email = f"{handle}@{DOMAIN}"
        user = User.objects.filter(email=email).first()
        if user is None:
            user = user_create(email=email, password=DEMO_PASSWORD, full_name=name, roles=roles)
        return user

    def _event(
        self,
        users: dict[str, User],
        members: list[User],
        organizer: str,
        title: str,
        days: int,
        capacity: int,
        waitlist: bool,
        status: str,
        registrations: int,
        staffed: bool,
    ) -> bool:
        if Event.objects.filter(organizer=users[organizer], title=title).exists():
            return False
        start = (timezone.now() + timedelta(days=max(days, 1))).replace(
            hour=18, minute=0, second=0, microsecond=0
        )
        event = events.event_create(
            organizer=users[organizer],
            title=title,
            description=f"<p>{title}. Talks, people and <b>snacks</b>.</p>",
            location="Community Hall, Main Street 1",
            start_at=start,
            end_at=start + timedelta(hours=3),
            capacity=capacity,
            waitlist_enabled=waitlist,
            status=Event.Status.PUBLISHED if status == "cancelled" else status,
        )
        for member in members[:registrations]:
            registration_create(event=event, user=member)
        if staffed:
            events.event_staff_add(event=event, user=users["door"])
        if status == "cancelled":
            events.event_cancel(event=event)
        if days < 0:  # a past event: registered while upcoming, then moved back
            past = start - timedelta(days=max(days, 1) - days)
            events.event_update(event=event, start_at=past, end_at=past + timedelta(hours=3))
        return True
