"""Settings for the test suite: the production settings, read from the same
environment, with test-only defaults filled in before they are read."""

import os
import tempfile

# A shared CI machine runs whole suites in parallel with servers: the web's
# 15 s per statement is no test of ours (the lock timeout stays 3 s; the
# fault tests assert on it).
os.environ.setdefault("DB_STATEMENT_TIMEOUT", "120s")
os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production-0123456789abcdef")
# The gunicorn-backed tests share the SQLite test database with child
# processes, so it must be a file, not the default in-memory database.
os.environ.setdefault(
    "TEST_DATABASE_NAME",
    os.path.join(tempfile.gettempdir(), f"eventmaster-test-{os.getpid()}.sqlite3"),
)

from .settings import *  # noqa: F403
from .settings import DATABASES

if DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
    DATABASES["default"]["TEST"]["NAME"] = None

# The control run of the concurrency tests: servers started with this off
# show that the tests catch overbooking when the event row is not locked.
# Read by events.selectors.event_get_locked; it exists in no other settings.
UNSAFE_DISABLE_CAPACITY_LOCK = os.environ.get("UNSAFE_DISABLE_CAPACITY_LOCK") == "true"

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# A sweep per mail, due at its commit: the tests run the due tasks
# (eventmaster.tests.utils.run_tasks). The window has tests of its own
# (registrations/tests/test_mail_sweep.py).
MAIL_SEND_WINDOW_SECONDS = 0.0
SECURE_SSL_REDIRECT = False
# The browser test talks plain HTTP to the live server: secure-only cookies
# would never be sent back (production keeps them secure).
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
# In-process tests get a per-process cache, cleared before every test; the
# cross-process rate-limit test starts real servers on the production cache.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "public": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "public"},
}
SILENCED_SYSTEM_CHECKS = ["django_ratelimit.W001", "django_ratelimit.E003"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# A webhooks' dispatch is queued after a commit that recorded domain events,
# at most once a second per process: a timing the suite's statement counts
# cannot rely on. The webhook tests turn it on (events/tests/test_webhooks.py).
WEBHOOK_DISPATCH_ON_COMMIT = False
