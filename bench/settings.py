"""Settings for the API benchmark's server: the real settings, plus the bare view's URL."""

from __future__ import annotations

from atlas.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
