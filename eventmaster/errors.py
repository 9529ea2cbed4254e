"""The base class of every domain error: what a service refuses, and why.

A domain error has a stable lower_snake_case ``code`` (clients branch on it,
never on the text), a human ``detail``, and the HTTP status the API answers
it with. It is a plain exception: services, selectors and commands raise
and catch it without the web layer; the API's exception handler renders it
in the error shape (eventmaster.api.exceptions), and
``eventmaster.api.schema.error_responses`` documents it. Apps declare
theirs in ``errors.py``::

    class EventFullError(DomainError):
        default_code = "event_full"
        default_detail = "This event is full."
"""

from http import HTTPStatus


class DomainError(Exception):
    status_code: int = HTTPStatus.CONFLICT
    default_code: str = "conflict"
    default_detail: str = "The request conflicts with the current state of the resource."

    def __init__(self, detail: str | None = None) -> None:
        self.detail: str = detail if detail is not None else self.default_detail
        super().__init__(self.detail)

    @property
    def code(self) -> str:
        return self.default_code
