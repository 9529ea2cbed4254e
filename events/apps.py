from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "events"

    def ready(self) -> None:
        from eventmaster import audit
        from eventmaster.tasks import housekeeping

        from . import webhooks

        # Webhooks: a dispatch soon after each commit that recorded domain
        # events, and the workers' housekeeping for what a lost task left.
        audit.after_commit(webhooks.schedule_dispatch)
        housekeeping(webhooks.resume)
        housekeeping(webhooks.prune)
        webhooks.register_renderer("event", webhooks.render_event)
