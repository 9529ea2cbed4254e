"""Path converters.

Django's ``uuid`` converter matches lower-case hex only, so
/events/6F9619FF-8B86-D011-B42D-00C04FC964FF was a 404, although a UUID's
hex digits are case-insensitive on input (RFC 4122). Overriding the
built-in ``uuid`` converter is deprecated since Django 5.1, so this one has
its own name; importing UUID_CONVERTER registers it. The OpenAPI document
maps it to ``format: uuid`` (SPECTACULAR_SETTINGS["PATH_CONVERTER_OVERRIDES"]).
"""

import uuid

from django.urls import register_converter

UUID_CONVERTER = "anyuuid"


class AnyCaseUUIDConverter:
    regex = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"

    def to_python(self, value: str) -> uuid.UUID:
        return uuid.UUID(value)

    def to_url(self, value: uuid.UUID | str) -> str:
        return str(value)


register_converter(AnyCaseUUIDConverter, UUID_CONVERTER)
