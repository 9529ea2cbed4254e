from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.renderers import JSONRenderer


class FileResponseNegotiation(BaseContentNegotiation):
    """For endpoints that answer a file (PNG, SVG, iCalendar, CSV) whatever
    the ``Accept`` header says: success returns a plain HttpResponse, and an
    error is still rendered as JSON instead of a 406."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return JSONRenderer(), JSONRenderer.media_type
