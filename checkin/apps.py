from django.apps import AppConfig


class CheckinConfig(AppConfig):
    name = "checkin"
