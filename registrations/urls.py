from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter(trailing_slash=False, use_regex_path=False)
router.register("registrations", views.RegistrationViewSet, basename="registration")

urlpatterns = [
    path(
        "events/<uuid:event_id>/registrations",
        views.EventRegistrationView.as_view(),
        name="event-registrations",
    ),
    path("events/<uuid:event_id>/attendees", views.EventAttendeeListView.as_view(), name="event-attendees"),
    path(
        "events/<uuid:event_id>/attendees.csv",
        views.EventAttendeeCsvView.as_view(),
        name="event-attendees-csv",
    ),
    path("me/registrations", views.MyRegistrationListView.as_view(), name="my-registrations"),
    *router.urls,
]
