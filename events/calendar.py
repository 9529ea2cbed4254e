"""RFC 5545 export of one event."""

from datetime import UTC

import icalendar

from .models import Event
from .sanitize import sanitize_plain_text

_STATUS: dict[str, str] = {
    Event.Status.DRAFT: "TENTATIVE",
    Event.Status.PUBLISHED: "CONFIRMED",
    Event.Status.CANCELLED: "CANCELLED",
}


def event_to_ical(event: Event) -> bytes:
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//EventMaster//EventMaster API//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    vevent = icalendar.Event()
    # Stable per event, so calendar apps update the entry instead of adding one.
    vevent.add("uid", f"{event.pk}@eventmaster")
    vevent.add("dtstamp", event.updated_at.astimezone(UTC))
    vevent.add("last-modified", event.updated_at.astimezone(UTC))
    vevent.add("dtstart", event.start_at.astimezone(UTC))
    vevent.add("dtend", event.end_at.astimezone(UTC))
    vevent.add("summary", event.title)
    if event.location:
        vevent.add("location", event.location)
    if event.description:
        vevent.add("description", sanitize_plain_text(event.description))
    vevent.add("status", _STATUS[event.status])
    calendar.add_component(vevent)
    return calendar.to_ical()
