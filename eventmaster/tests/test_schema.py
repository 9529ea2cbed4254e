"""The OpenAPI document describes what the server answers, errors included."""

import re

import pytest
from drf_spectacular.generators import SchemaGenerator


@pytest.fixture(scope="module")
def schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def resolve(schema: dict, node: dict) -> dict:
    while "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def error_codes(schema: dict, operation: dict, status: str) -> set[str]:
    body = resolve(schema, operation["responses"][status]["content"]["application/json"]["schema"])
    variants = [resolve(schema, v) for v in body.get("oneOf", [body])]
    codes = set()
    for variant in variants:
        item = resolve(schema, variant["properties"]["errors"]["items"])
        for option in item.get("oneOf", [item]):
            codes |= set(resolve(schema, resolve(schema, option)["properties"]["code"]).get("enum", []))
    return codes


def op(schema: dict, path: str, method: str) -> dict:
    return schema["paths"][path][method]


def test_every_operation_documents_500_and_auth_errors(schema):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            assert "500" in operation["responses"], (path, method)
            if {"jwtAuth": []} in operation.get("security", []) and {} not in operation["security"]:
                assert "401" in operation["responses"], (path, method)


def test_register_documents_its_codes(schema):
    register = op(schema, "/api/v1/auth/register", "post")
    assert {"201", "400", "409", "429"} <= set(register["responses"])
    assert error_codes(schema, register, "409") == {"email_taken"}
    assert error_codes(schema, register, "429") == {"rate_limited"}


def test_login_documents_invalid_credentials(schema):
    login = op(schema, "/api/v1/auth/login", "post")
    assert error_codes(schema, login, "401") == {"invalid_credentials"}
    assert "429" in login["responses"]


def test_token_errors_are_enumerated(schema):
    assert "token_not_valid" in error_codes(schema, op(schema, "/api/v1/me", "get"), "401")
    assert error_codes(schema, op(schema, "/api/v1/auth/refresh", "post"), "401") == {"token_not_valid"}


def test_paginated_list_shape_and_parameters(schema):
    users = op(schema, "/api/v1/users", "get")
    page = resolve(schema, users["responses"]["200"]["content"]["application/json"]["schema"])
    assert set(page["properties"]) == {"items", "total", "limit", "offset"}
    assert set(page["required"]) == {"items", "total", "limit", "offset"}
    assert {p["name"] for p in users["parameters"]} >= {"limit", "offset", "role", "q", "is_active"}
    assert {"400", "401", "403"} <= set(users["responses"])


def test_admin_update_documents_cannot_demote_self(schema):
    update = op(schema, "/api/v1/users/{id}", "patch")
    assert error_codes(schema, update, "409") == {"cannot_demote_self"}
    assert {"400", "401", "403", "404"} <= set(update["responses"])
    assert "put" not in schema["paths"]["/api/v1/users/{id}"]


def test_schema_and_docs_endpoints(client):
    assert client.get("/api/v1/schema").status_code == 200
    assert client.get("/api/v1/docs").status_code == 200


@pytest.mark.parametrize(
    ("path", "method", "status", "codes"),
    [
        (
            "/api/v1/events/{event_id}/registrations",
            "post",
            "409",
            {"event_full", "already_registered", "registration_closed"},
        ),
        ("/api/v1/registrations/{id}/cancel", "post", "409", {"already_cancelled", "already_checked_in"}),
        ("/api/v1/registrations/{id}/qr.png", "get", "409", {"ticket_not_confirmed"}),
        ("/api/v1/events/{id}", "patch", "409", {"capacity_below_registrations"}),
        ("/api/v1/events/{id}", "delete", "409", {"event_has_registrations"}),
        ("/api/v1/events/{id}/publish", "post", "409", {"invalid_status"}),
        ("/api/v1/events/{id}/cancel", "post", "409", {"already_cancelled"}),
    ],
)
def test_domain_error_codes_are_documented(schema, path, method, status, codes):
    assert error_codes(schema, op(schema, path, method), status) == codes


def test_validation_codes_and_file_media_types(schema):
    create = op(schema, "/api/v1/events", "post")
    body = resolve(schema, create["responses"]["400"]["content"]["application/json"]["schema"])
    documented = str(body) + str(schema["components"]["schemas"])
    assert "end_before_start" in documented
    assert (
        "image/png" in op(schema, "/api/v1/registrations/{id}/qr.png", "get")["responses"]["200"]["content"]
    )
    assert (
        "image/svg+xml"
        in op(schema, "/api/v1/registrations/{id}/qr.svg", "get")["responses"]["200"]["content"]
    )
    assert (
        "text/csv"
        in op(schema, "/api/v1/events/{event_id}/attendees.csv", "get")["responses"]["200"]["content"]
    )
    assert (
        "text/calendar"
        in op(schema, "/api/v1/events/{id}/calendar.ics", "get")["responses"]["200"]["content"]
    )
    assert {} in op(schema, "/api/v1/events", "get")["security"], "the public list needs no token"
    staff = op(schema, "/api/v1/events/{event_id}/staff", "post")
    assert error_codes(schema, staff, "400") >= {"not_checkin_staff"}


@pytest.mark.parametrize(
    ("path", "field", "codes"),
    [
        (
            "/api/v1/auth/register",
            "password",
            {"password_too_short", "password_too_common", "password_too_similar"},
        ),
        ("/api/v1/me/password", "current_password", {"wrong_password"}),
        ("/api/v1/me/password", "new_password", {"password_too_short", "password_entirely_numeric"}),
        ("/api/v1/auth/logout", "refresh", {"token_not_valid"}),
        ("/api/v1/checkin", "event_id", {"does_not_exist"}),
        ("/api/v1/checkin/undo", "event_id", {"does_not_exist"}),
    ],
)
def test_validation_codes_raised_by_services_are_documented(schema, path, field, codes):
    """Services raise these 400 codes (not the input serializers), so the
    schema lists them explicitly."""
    documented = field_codes(schema, op(schema, path, "post"), field)
    assert codes <= documented, documented


def test_checkin_documents_nonce_reused(schema):
    checkin = op(schema, "/api/v1/checkin", "post")
    assert error_codes(schema, checkin, "409") == {"nonce_reused"}
    # nonce_reused is an error, never the result of a 200 scan.
    result = resolve(schema, checkin["responses"]["200"]["content"]["application/json"]["schema"])
    assert "nonce_reused" not in str(resolve(schema, result["properties"]["result"]))


def operations(schema: dict):
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation


def field_codes(schema: dict, operation: dict, field: str) -> set[str]:
    """The validation codes the 400 documents for ``attr == field``."""
    body = resolve(schema, operation["responses"]["400"]["content"]["application/json"]["schema"])
    documented = set()
    for variant in (resolve(schema, v) for v in body.get("oneOf", [body])):
        item = resolve(schema, variant["properties"]["errors"]["items"])
        for option in (resolve(schema, o) for o in item.get("oneOf", [item])):
            if field in resolve(schema, option["properties"]["attr"]).get("enum", []):
                documented |= set(resolve(schema, option["properties"]["code"]).get("enum", []))
    return documented


@pytest.mark.parametrize(
    ("path", "method"),
    [
        ("/api/v1/events/{event_id}/attendees", "get"),
        ("/api/v1/events/{event_id}/attendees.csv", "get"),
        ("/api/v1/events/{event_id}/checkin-stats", "get"),
        ("/api/v1/events/{event_id}/audit", "get"),
        ("/api/v1/checkin", "post"),
        ("/api/v1/checkin/undo", "post"),
    ],
)
def test_object_permission_403s_are_documented(schema, path, method):
    """These views refuse a caller who may see the event but not run it."""
    assert error_codes(schema, op(schema, path, method), "403") == {"permission_denied"}


def test_every_paginated_list_documents_the_400_of_a_bad_page(schema):
    lists = [
        (path, operation)
        for path, _, operation in operations(schema)
        if {"limit", "offset"} <= {p["name"] for p in operation.get("parameters", [])}
    ]
    assert len(lists) == 9, [path for path, _ in lists]
    for path, operation in lists:
        assert field_codes(schema, operation, "limit") == {"invalid"}, path
        assert field_codes(schema, operation, "offset") == {"invalid"}, path


def test_filters_may_be_sent_empty(schema):
    """django-filter reads ``?starts_before=`` as no filter; the pagination
    parameters are not filters (an empty limit is a 400)."""
    for path, _, operation in operations(schema):
        for parameter in operation.get("parameters", []):
            empty = parameter.get("allowEmptyValue", False)
            assert empty == (parameter["in"] == "query" and parameter["name"] not in {"limit", "offset"}), (
                path,
                parameter["name"],
            )


def test_managed_events_is_a_filtered_page(schema):
    managed = op(schema, "/api/v1/events/managed", "get")
    page = resolve(schema, managed["responses"]["200"]["content"]["application/json"]["schema"])
    assert set(page["required"]) == {"items", "total", "limit", "offset"}
    assert resolve(schema, page["properties"]["items"]["items"])["properties"].keys() >= {"id", "status"}
    public = {p["name"] for p in op(schema, "/api/v1/events", "get")["parameters"]}
    assert {p["name"] for p in managed["parameters"]} == public | {"status"}
    assert {"400", "401", "403"} <= set(managed["responses"])


def test_scan_result_registration_may_be_null_and_its_variants_exclude_each_other(schema):
    result = resolve(
        schema,
        op(schema, "/api/v1/checkin", "post")["responses"]["200"]["content"]["application/json"]["schema"],
    )
    registration = result["properties"]["registration"]
    assert registration["nullable"] is True
    variants = [resolve(schema, v) for v in resolve(schema, registration["allOf"][0])["oneOf"]]
    wrong_event = next(v for v in variants if set(v["properties"]) == {"event"})
    # A full registration has an event too: only a closed variant tells them apart.
    assert wrong_event["additionalProperties"] is False


def test_staff_assignment_documents_every_400(schema):
    assign = op(schema, "/api/v1/events/{event_id}/staff", "post")
    assert error_codes(schema, assign, "400") >= {"not_checkin_staff", "parse_error", "does_not_exist"}
    # A malformed UUID fails in the model's UUIDField: Django's "invalid".
    assert {"does_not_exist", "invalid"} <= field_codes(schema, assign, "user_id")


def test_503_everywhere_413_and_body_errors_only_with_a_body(schema):
    for path, method, operation in operations(schema):
        responses = operation["responses"]
        assert error_codes(schema, operation, "503") == {"service_unavailable"}, (path, method)
        assert responses["503"]["headers"]["Retry-After"]["required"] is True
        takes_body = "requestBody" in operation
        assert ("413" in responses) == takes_body, (path, method)
        assert ("415" in responses) == takes_body, (path, method)
        if takes_body:
            assert error_codes(schema, operation, "413") == {"request_too_large"}
            assert "parse_error" in error_codes(schema, operation, "400"), (path, method)
        elif "400" in responses:
            assert "parse_error" not in error_codes(schema, operation, "400"), (path, method)
        if "429" in responses:
            assert responses["429"]["headers"]["Retry-After"]["required"] is True


def test_registration_takes_an_idempotency_key(schema):
    register = op(schema, "/api/v1/events/{event_id}/registrations", "post")
    (key,) = [p for p in register["parameters"] if p["in"] == "header"]
    assert key["name"] == "Idempotency-Key"
    assert not key.get("required", False)
    assert (key["schema"]["minLength"], key["schema"]["maxLength"]) == (1, 255)
    pattern = re.compile(key["schema"]["pattern"])
    assert pattern.fullmatch("a") and pattern.fullmatch("retry 1/abc-DEF_~") and pattern.fullmatch("x" * 255)
    assert not pattern.fullmatch("") and not pattern.fullmatch(" a") and not pattern.fullmatch("é")
    assert error_codes(schema, register, "422") == {"idempotency_key_reused"}


def test_a_list_items_error_attr_is_documented_as_the_server_writes_it(schema, admin_client, member):
    """drf-standardized-errors says ``roles.INDEX``; the server says ``roles.0``."""
    response = admin_client.patch(f"/api/v1/users/{member.pk}", {"roles": ["member", "wizard"]})
    (error,) = response.json()["errors"]
    assert (response.status_code, error["attr"], error["code"]) == (400, "roles.1", "invalid_choice")
    body = resolve(
        schema,
        op(schema, "/api/v1/users/{id}", "patch")["responses"]["400"]["content"]["application/json"][
            "schema"
        ],
    )
    validation = resolve(schema, {"$ref": body["discriminator"]["mapping"]["validation_error"]})
    items = resolve(schema, validation["properties"]["errors"]["items"])
    assert "discriminator" not in items  # its mapping could only name "roles.INDEX"
    documented = [
        option
        for option in (resolve(schema, o) for o in items["oneOf"])
        if re.fullmatch(option["properties"]["attr"].get("pattern", "^$"), error["attr"])
    ]
    assert [error["code"] in resolve(schema, o["properties"]["code"])["enum"] for o in documented] == [True]
