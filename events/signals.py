"""Domain events of the events app: what happened to an event, for the apps
above it to react to (registrations cancels and promotes; events never
imports them).

Each is a Django signal sent by ``events.services`` inside the transaction
that made the change, with the event's row lock held, and the locked
``Event`` as ``event``. Receivers run in that transaction: what they write
commits or rolls back with the change, and an exception from a receiver
aborts it. Receivers are connected in their app's ``AppConfig.ready()``.
"""

from django.dispatch import Signal

# The event is now cancelled (its status is saved).
event_cancelled = Signal()

# The event's capacity was raised (saved): seats may have been freed.
# Extra argument: ``old_capacity``.
event_capacity_raised = Signal()
