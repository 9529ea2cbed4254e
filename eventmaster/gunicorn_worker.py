"""gunicorn's sync worker, answering in the API's error shape.

gunicorn refuses some requests before Django sees them (a request line
longer than ``limit_request_line``, malformed or too many headers) and
answers those with an HTML page. docs/api.md wants every error body in one JSON
shape, so this worker writes that instead; status codes are gunicorn's.
Selected in gunicorn.conf.py (read from the working directory).
"""

from __future__ import annotations

import json
import socket
from typing import Any

from gunicorn import util
from gunicorn.workers.sync import SyncWorker

_CODES = {
    400: "bad_request",
    403: "forbidden",
    414: "request_uri_too_long",
    417: "expectation_failed",
    431: "request_header_fields_too_large",
    500: "error",
    501: "not_implemented",
}


def write_json_error(sock: socket.socket, status_int: int, reason: str, mesg: str) -> None:
    body = json.dumps(
        {
            "type": "client_error" if status_int < 500 else "server_error",
            "errors": [{"code": _CODES.get(status_int, "error"), "detail": reason, "attr": None}],
        }
    ).encode()
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode("latin1")
    util.write_nonblock(sock, head + body)


class JsonErrorSyncWorker(SyncWorker):
    def handle_error(self, req: Any, client: socket.socket, addr: Any, exc: BaseException) -> None:
        # gunicorn calls util.write_error by name; a sync worker serves one
        # request at a time, so swapping it for this call is safe.
        html_writer, util.write_error = util.write_error, write_json_error
        try:
            super().handle_error(req, client, addr, exc)
        finally:
            util.write_error = html_writer
