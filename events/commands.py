"""Shared by the management commands: read an event id argument."""

import uuid

from django.core.management.base import CommandError

from .models import Event


def event_from_arg(value: str) -> Event:
    try:
        event_id = uuid.UUID(value)
    except ValueError:
        raise CommandError(f"{value!r} is not an event id (a UUID).") from None
    event = Event.objects.filter(pk=event_id).first()
    if event is None:
        raise CommandError(f"No event with id {event_id}.")
    return event
