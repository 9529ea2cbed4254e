"""Event.confirmed_count and Event.waitlisted_count, filled from the
registrations that exist: one set-based UPDATE with correlated subqueries
(the same SQL on SQLite and PostgreSQL), not a loop over events.

Depends on the registrations app's latest migration for its historical
model only; no code of the registrations app is imported.

The UPDATE writes every event row once and holds their row locks until the
migration commits (registrations wait meanwhile); its subqueries read the
registrations' (event, status, created_at) index. Registrations made by
instances still on the old code do not move the counters: run
``manage.py recount_events --fix`` once every instance runs this code."""

from django.db import migrations, models
from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce


def backfill_counts(apps, schema_editor) -> None:
    Event = apps.get_model("events", "Event")
    Registration = apps.get_model("registrations", "Registration")

    def count_of(status: str) -> Coalesce:
        per_event = (
            Registration.objects.filter(event=OuterRef("pk"), status=status)
            .order_by()
            .values("event")
            .annotate(n=Count("pk"))
            .values("n")
        )
        return Coalesce(Subquery(per_event, output_field=IntegerField()), Value(0))

    Event.objects.update(confirmed_count=count_of("confirmed"), waitlisted_count=count_of("waitlisted"))


class Migration(migrations.Migration):
    dependencies = [
        ("events", "0001_initial"),
        ("registrations", "0004_idempotency_key"),
    ]

    operations = [
        migrations.AddField(
            model_name="event",
            name="confirmed_count",
            field=models.PositiveIntegerField(default=0, editable=False),
        ),
        migrations.AddField(
            model_name="event",
            name="waitlisted_count",
            field=models.PositiveIntegerField(default=0, editable=False),
        ),
        migrations.RunPython(backfill_counts, migrations.RunPython.noop, elidable=True),
    ]
