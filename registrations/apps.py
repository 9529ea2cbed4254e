from django.apps import AppConfig


class RegistrationsConfig(AppConfig):
    name = "registrations"

    def ready(self) -> None:
        # Reactions to the events app's domain events (events/signals.py):
        # this app is above it, so it subscribes; events never imports it.
        from eventmaster.metrics import register_collector
        from eventmaster.tasks import housekeeping
        from events import signals
        from events.webhooks import register_renderer

        from . import mails, serializers, services

        # Every worker re-queues, now and then, the mails whose task was lost.
        housekeeping(mails.resume)
        # And the cancellation of a big event's registrations whose task was lost.
        housekeeping(services.registrations_cancel_resume)
        register_collector(mails.metrics)

        # Webhook payloads show a registration as the API does (events.webhooks).
        register_renderer("registration", serializers.render_for_webhook)

        signals.event_cancelled.connect(services.on_event_cancelled, dispatch_uid="registrations.cancel")
        signals.event_capacity_raised.connect(
            services.on_event_capacity_raised, dispatch_uid="registrations.promote"
        )
