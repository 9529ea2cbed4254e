from django.apps import AppConfig


class EventmasterConfig(AppConfig):
    """The plumbing as an app: its management commands (the task worker and
    the queue's state) and the workers' heartbeat table. It imports no app."""

    name = "eventmaster"
    verbose_name = "EventMaster"
    default_auto_field = "django.db.models.BigAutoField"
