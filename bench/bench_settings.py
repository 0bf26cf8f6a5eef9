"""Settings for the benchmarks only: the real settings, plus the bench URLconf, which
serves the baseline views (a bare JSON view, a minimal list view) next to the real URLs,
from the same process and the same middleware."""

from settings.base import *  # noqa: F403

ROOT_URLCONF = "bench.bench_urls"
