"""Sessions, CSRF, the session user and messages serve the admin only: the
API and the probes skip them (eventmaster.browser)."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_the_api_and_the_probes_set_no_cookie_and_vary_on_none(api_client, client):
    for answer in (api_client.get("/api/v1/events"), client.get("/healthz")):
        assert answer.status_code == 200
        assert not answer.cookies and "Cookie" not in answer.get("Vary", "")


def test_the_admin_still_has_sessions_and_csrf(admin_user):
    browser = Client(enforce_csrf_checks=True)
    page = browser.get("/admin/login/")
    assert page.status_code == 200 and "csrftoken" in page.cookies
    # Without the token: refused, as before.
    assert browser.post("/admin/login/", {"username": admin_user.email, "password": "x"}).status_code == 403
    browser.force_login(admin_user)
    assert browser.get("/admin/").status_code == 200


def test_an_api_post_needs_no_csrf_token(member_client, event):
    answer = member_client.post(f"/api/v1/events/{event.pk}/registrations")
    assert answer.status_code == 201
