from django.urls import path

from . import views

urlpatterns = [
    path("checkin", views.CheckinView.as_view(), name="checkin"),
    path("checkin/undo", views.CheckinUndoView.as_view(), name="checkin-undo"),
    path(
        "events/<uuid:event_id>/checkin-stats",
        views.EventCheckinStatsView.as_view(),
        name="event-checkin-stats",
    ),
]
