import pytest

from notifications.selectors import forget_thresholds


@pytest.fixture(autouse=True)
def _fresh_thresholds():
    """Thresholds are cached for a few seconds per process: a test must not see a previous
    test's (rolled back) values."""
    forget_thresholds()
    yield
    forget_thresholds()
