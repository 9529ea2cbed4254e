"""Settings come from the environment; production refuses unsafe starts."""

import json
import os
import subprocess
import sys

from django.conf import settings

PROBE = """
import json, django
from django.conf import settings
django.setup()
db = settings.DATABASES["default"]
print(json.dumps({
    "debug": settings.DEBUG,
    "engine": db["ENGINE"],
    "options": db.get("OPTIONS", {}),
    "conn_max_age": db.get("CONN_MAX_AGE"),
    "health_checks": db.get("CONN_HEALTH_CHECKS"),
    "cache": settings.CACHES["default"]["BACKEND"],
    "access_minutes": settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"].total_seconds() / 60,
    "refresh_days": settings.SIMPLE_JWT["REFRESH_TOKEN_LIFETIME"].days,
    "ratelimit": settings.RATELIMIT_ENABLE,
    "proxies": settings.TRUSTED_PROXY_COUNT,
    "cors": settings.CORS_ALLOWED_ORIGINS,
    "hosts": settings.ALLOWED_HOSTS,
    "hsts": getattr(settings, "SECURE_HSTS_SECONDS", 0),
    "secure_cookie": getattr(settings, "SESSION_COOKIE_SECURE", False),
}))
"""


def run_settings(**env: str) -> subprocess.CompletedProcess:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "SECRET_KEY", "DEBUG", "REDIS_URL", "DB_STATEMENT_TIMEOUT"}
    }
    clean.update(DJANGO_SETTINGS_MODULE="eventmaster.settings", **env)
    return subprocess.run(
        [sys.executable, "-c", PROBE],
        env=clean,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )


def probe(**env: str) -> dict:
    result = run_settings(**env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_production_refuses_to_start_without_secret_key():
    result = run_settings()
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_debug_gets_a_development_key_and_production_is_hardened():
    assert probe(DEBUG="true")["debug"] is True
    prod = probe(SECRET_KEY="x" * 60)
    assert prod["debug"] is False
    assert prod["hsts"] >= 31_536_000 and prod["secure_cookie"] is True


def test_sqlite_is_configured_for_concurrent_writers():
    conf = probe(DEBUG="true", DATABASE_URL="sqlite:///x.sqlite3")
    assert conf["engine"] == "django.db.backends.sqlite3"
    assert conf["options"]["transaction_mode"] == "IMMEDIATE"
    assert conf["options"]["timeout"] >= 5


def test_postgres_keeps_checked_connections_with_short_waits():
    conf = probe(DEBUG="true", DATABASE_URL="postgres://u:p@db.example:5432/em", DB_LOCK_TIMEOUT="2s")
    assert conf["engine"] == "eventmaster.postgresql"  # Django's, with a cheaper health check
    # Persistent, checked before each request's first query; no pool that
    # waits out an outage.
    assert conf["conn_max_age"] == 600 and conf["health_checks"] is True
    assert "pool" not in conf["options"]
    assert conf["options"]["connect_timeout"] == 2
    assert "-c lock_timeout=2s" in conf["options"]["options"]
    assert "-c statement_timeout=15s" in conf["options"]["options"]


def test_postgres_session_options_can_be_left_to_the_role_behind_pgbouncer():
    conf = probe(
        DEBUG="true",
        DATABASE_URL="postgres://u:p@db.example:5432/em",
        DB_LOCK_TIMEOUT="",
        DB_STATEMENT_TIMEOUT="",
        DB_IDLE_IN_TRANSACTION_TIMEOUT="",
    )
    assert "options" not in conf["options"]


def test_cache_is_database_by_default_and_redis_with_redis_url():
    assert probe(DEBUG="true")["cache"] == "django.core.cache.backends.db.DatabaseCache"
    assert probe(DEBUG="true", REDIS_URL="redis://127.0.0.1:6379/0")["cache"] == (
        "eventmaster.cache.FallbackRedisCache"
    )


def test_other_variables_of_api_md():
    conf = probe(
        DEBUG="true",
        ACCESS_TOKEN_MINUTES="5",
        REFRESH_TOKEN_DAYS="2",
        RATELIMIT_ENABLE="false",
        TRUSTED_PROXY_COUNT="2",
        CORS_ALLOWED_ORIGINS="https://app.example.org,https://b.example.org",
        ALLOWED_HOSTS="api.example.org",
    )
    assert conf["access_minutes"] == 5 and conf["refresh_days"] == 2
    assert conf["ratelimit"] is False and conf["proxies"] == 2
    assert conf["cors"] == ["https://app.example.org", "https://b.example.org"]
    assert conf["hosts"] == ["api.example.org"]
    defaults = probe(DEBUG="true")
    assert defaults["access_minutes"] == 15 and defaults["refresh_days"] == 7
    assert defaults["ratelimit"] is True and defaults["proxies"] == 0 and defaults["cors"] == []
    assert defaults["hosts"] == ["localhost", "127.0.0.1"]


def test_deploy_check_passes_with_production_settings():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env={
            **{k: v for k, v in os.environ.items() if k not in {"DJANGO_SETTINGS_MODULE", "DEBUG"}},
            "SECRET_KEY": "kq3-9Vd_x7PzLw2Rb8NcYt5Hs1Mg4Jf6Ae0Ui_Ko-Qp9Zr8Xy7Wv6Ts5",
            "ALLOWED_HOSTS": "events.example.org",
            "DATABASE_URL": "sqlite:///:memory:",
        },
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


def test_postgres_prepares_repeated_statements_unless_turned_off():
    conf = probe(DEBUG="true", DATABASE_URL="postgres://u:p@db.example:5432/em")
    assert conf["options"]["prepare_threshold"] == 5
    assert conf["options"]["server_side_binding"] is True
    off = probe(DEBUG="true", DATABASE_URL="postgres://u:p@db.example:5432/em", DB_PREPARE_THRESHOLD="0")
    assert off["options"]["prepare_threshold"] is None
