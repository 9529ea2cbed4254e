from django.apps import AppConfig


class RegistrationsConfig(AppConfig):
    name = "registrations"

    def ready(self) -> None:
        # Reactions to the events app's domain events (events/signals.py):
        # this app is above it, so it subscribes; events never imports it.
        from eventmaster.metrics import register_collector
        from eventmaster.tasks import housekeeping
        from events import signals

        from . import mails, services

        # Every worker re-queues, now and then, the mails whose task was lost.
        housekeeping(mails.resume)
        # And the cancellation of a big event's registrations whose task was lost.
        housekeeping(services.registrations_cancel_resume)
        register_collector(mails.metrics)

        signals.event_cancelled.connect(services.on_event_cancelled, dispatch_uid="registrations.cancel")
        signals.event_capacity_raised.connect(
            services.on_event_capacity_raised, dispatch_uid="registrations.promote"
        )
