"""Static files in production: hashed, compressed names from the manifest
that ``collectstatic`` writes (whitenoise), and no 500 without it.

Django's manifest storage raises at request time for a file the manifest
does not name, so a server started without ``collectstatic`` answered 500 on
the admin and the API docs. The deployment steps of the contract do not
include ``collectstatic`` (the Docker image runs it): such a file is served
under its plain name from the apps' static folders instead (whitenoise
finds them: ``WHITENOISE_USE_FINDERS``), and a warning says once per process
that the static files are not collected.
"""

import logging

from whitenoise.storage import CompressedManifestStaticFilesStorage

logger = logging.getLogger(__name__)


class ManifestStaticFilesStorage(CompressedManifestStaticFilesStorage):
    manifest_strict = False
    _warned = False

    def stored_name(self, name: str) -> str:
        try:
            stored: str = super().stored_name(name)
            return stored
        except ValueError:
            # Neither in the manifest nor in STATIC_ROOT: not collected.
            if not ManifestStaticFilesStorage._warned:
                ManifestStaticFilesStorage._warned = True
                logger.warning(
                    "static file %s is not collected: serving it unhashed; run `manage.py collectstatic`",
                    name,
                )
            return name
