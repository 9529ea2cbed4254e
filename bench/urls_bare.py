"""The baseline views alone, for bench/settings_bare.py."""

from django.urls import path

from bench.urls import BareEventList, one_select

urlpatterns = [
    path("bench/select", one_select),
    path("bench/events", BareEventList.as_view()),
]
