from __future__ import annotations

from collections.abc import Iterable, Sequence

from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import BaseParser
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request


class FileResponseNegotiation(BaseContentNegotiation):
    """For endpoints that answer a file (PNG, SVG, iCalendar, CSV) whatever
    the ``Accept`` header says: success returns a plain HttpResponse, and an
    error is still rendered as JSON instead of a 406."""

    # DRF passes a list (the view's parser instances); the base types it as Iterable.
    def select_parser(self, request: Request, parsers: Sequence[BaseParser]) -> BaseParser | None:  # type: ignore[override]
        return parsers[0] if parsers else None

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        return JSONRenderer(), JSONRenderer.media_type
