"""The API's one parser: DRF's JSON parser, bounded.

Python's decoder raises ``RecursionError`` on absurdly nested input
(``[`` x 100,000): that is the client's malformed body, a 400
``parse_error``, not a 500. The body's size is bounded before it is read
(eventmaster.middleware.RequestBodyLimitMiddleware: 413).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import IO, Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser


class BoundedJSONParser(JSONParser):
    def parse(
        self, stream: IO[Any], media_type: str | None = None, parser_context: Mapping[str, Any] | None = None
    ) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise ParseError("JSON parse error - nested too deeply.") from exc
