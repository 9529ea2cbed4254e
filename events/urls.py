from django.urls import path
from rest_framework.routers import SimpleRouter

from eventmaster.converters import UUID_CONVERTER as UUID

from .views import (
    EventAuditViewSet,
    EventStaffViewSet,
    EventViewSet,
    WebhookDeliveryResendView,
    WebhookViewSet,
)

router = SimpleRouter(trailing_slash=False, use_regex_path=False)
router.register("events", EventViewSet, basename="event")
router.register("webhooks", WebhookViewSet, basename="webhook")

urlpatterns = [
    path(
        f"events/<{UUID}:event_id>/staff",
        EventStaffViewSet.as_view({"get": "list", "post": "create"}),
        name="event-staff",
    ),
    path(
        f"events/<{UUID}:event_id>/staff/<{UUID}:user_id>",
        EventStaffViewSet.as_view({"delete": "destroy"}),
        name="event-staff-detail",
    ),
    path(f"events/<{UUID}:event_id>/audit", EventAuditViewSet.as_view({"get": "list"}), name="event-audit"),
    path(
        f"webhooks/<{UUID}:pk>/deliveries/<{UUID}:delivery_id>/resend",
        WebhookDeliveryResendView.as_view(),
        name="webhook-delivery-resend",
    ),
    *router.urls,
]
