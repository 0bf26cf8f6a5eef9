"""Tasks of the credit app (Django's tasks API through django-tasks, SPEC §12)."""

from django_tasks import task

from credit.services.holds import release_expired_holds


@task()
def release_expired_holds_task() -> int:
    """Every minute (PERIODIC_TASKS): release the holds past their time limit + 300 s
    (SPEC §11); the same as `manage.py release_expired_holds` from cron."""
    return release_expired_holds()
