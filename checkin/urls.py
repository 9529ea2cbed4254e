from django.urls import path

from eventmaster.converters import UUID_CONVERTER as UUID

from . import views

urlpatterns = [
    path("checkin", views.CheckinView.as_view(), name="checkin"),
    path("checkin/undo", views.CheckinUndoView.as_view(), name="checkin-undo"),
    path("checkin/batch", views.CheckinBatchView.as_view(), name="checkin-batch"),
    path(
        f"events/<{UUID}:event_id>/checkin-stats",
        views.EventCheckinStatsView.as_view(),
        name="event-checkin-stats",
    ),
    path(
        f"events/<{UUID}:event_id>/door-bundle", views.EventDoorBundleView.as_view(), name="event-door-bundle"
    ),
]
