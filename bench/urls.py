"""The API plus the benchmarks' baselines: a minimal Django view doing one
indexed SELECT (bench/checkin_bench.py, bench/api_bench.py), and a bare DRF
list of events (bench/api_bench.py)."""

from django.http import JsonResponse
from django.urls import include, path
from rest_framework import generics, serializers
from rest_framework.pagination import LimitOffsetPagination

from accounts.models import User
from events.models import Event
from events.serializers import EventSerializer
from registrations.models import Registration


def one_select(request):
    found = list(
        Registration.objects.filter(ticket_code=request.GET.get("code", "")).values_list("id", flat=True)[:1]
    )
    return JsonResponse({"id": str(found[0]) if found else None})


class BareOrganizerSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ("id", "full_name")


class BareEventSerializer(serializers.ModelSerializer):
    """The public fields of events.serializers.EventSerializer, from the
    event's columns as they are (the counts are its counter columns)."""

    organizer = BareOrganizerSerializer(read_only=True)
    registered_count = serializers.IntegerField(source="confirmed_count", read_only=True)
    waitlist_count = serializers.IntegerField(source="waitlisted_count", read_only=True)
    available_slots = serializers.SerializerMethodField()
    is_full = serializers.SerializerMethodField()

    class Meta:
        model = Event
        fields = EventSerializer.Meta.fields

    def get_available_slots(self, event: Event) -> int:
        return event.capacity - event.confirmed_count

    def get_is_full(self, event: Event) -> bool:
        return event.confirmed_count >= event.capacity


class BareEventList(generics.ListAPIView):
    """A page of events the plain DRF way: ModelSerializer, DRF's
    LimitOffsetPagination (a COUNT and the page), no authentication, no
    permissions, no filters, no access rules."""

    queryset = Event.objects.select_related("organizer").order_by("start_at", "id")
    serializer_class = BareEventSerializer
    pagination_class = LimitOffsetPagination
    authentication_classes = ()
    permission_classes = ()
    filter_backends = ()


urlpatterns = [
    path("bench/select", one_select),
    path("bench/events", BareEventList.as_view()),
    path("", include("eventmaster.urls")),
]
