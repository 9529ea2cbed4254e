from django.urls import path
from rest_framework.routers import SimpleRouter

from eventmaster.converters import UUID_CONVERTER as UUID

from . import views

router = SimpleRouter(trailing_slash=False, use_regex_path=False)
router.register("registrations", views.RegistrationViewSet, basename="registration")

urlpatterns = [
    path(
        f"events/<{UUID}:event_id>/registrations",
        views.EventRegistrationView.as_view(),
        name="event-registrations",
    ),
    path(
        f"events/<{UUID}:event_id>/attendees", views.EventAttendeeListView.as_view(), name="event-attendees"
    ),
    path(
        f"events/<{UUID}:event_id>/attendees.csv",
        views.EventAttendeeCsvView.as_view(),
        name="event-attendees-csv",
    ),
    path("me/registrations", views.MyRegistrationListView.as_view(), name="my-registrations"),
    *router.urls,
]
