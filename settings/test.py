"""Test settings: the base settings with DEBUG on and fast password hashing."""

import os

os.environ.setdefault("DEBUG", "true")
# Tasks run inside the caller unless a test picks a real backend (tests/tasks_support.py).
os.environ.setdefault("TASKS_BACKEND", "immediate")

from settings.base import *  # noqa: E402,F403
from settings.base import DATABASES, IS_POSTGRES  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
if IS_POSTGRES:
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["TEST"] = {"NAME": os.environ.get("TEST_DATABASE_NAME") or None}
