"""Tasks of the notifications app (Django's tasks API through django-tasks, SPEC §12)."""

from django_tasks import task

from notifications import delivery


@task()
def deliver_event_task(event_id: str) -> int:
    """Deliver one event's deliveries, enqueued after the commit that recorded it."""
    return delivery.deliver_event(event_id)


@task()
def deliver_due_task() -> int:
    """Every minute: retries that are due, and events whose own task was lost."""
    return delivery.deliver_due()
