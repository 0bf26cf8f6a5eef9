"""Run one background worker for the configured backend, with the periodic scheduler."""

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from notifications.periodic import Scheduler


class Command(BaseCommand):
    help = (
        "Run one task worker for TASKS_BACKEND (database: db_worker; rq: an RQ worker on "
        "REDIS_URL) plus the scheduler of the periodic tasks. Run as many as needed."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--no-scheduler",
            action="store_true",
            help="Do not enqueue the periodic tasks from this process.",
        )
        parser.add_argument(
            "--burst",
            action="store_true",
            help="Run the tasks waiting now, then exit (no scheduler).",
        )

    def handle(self, *args, no_scheduler=False, burst=False, **options):
        backend = settings.TASKS_BACKEND
        if backend not in ("database", "rq"):
            raise CommandError(
                f"TASKS_BACKEND={backend} runs tasks inside the caller: there is no worker to run."
            )
        scheduler = None
        if not no_scheduler and not burst:
            scheduler = Scheduler()
            scheduler.start()
        self.stdout.write(
            f"task worker: backend {backend}, scheduler {'on' if scheduler else 'off'}"
        )
        try:
            if backend == "database":
                extra = ["--batch"] if burst else []
                call_command(
                    "db_worker",
                    "--queue-name",
                    "default",
                    "--no-reload",
                    "--no-startup-delay",
                    *extra,
                )
            else:
                extra = ["--burst"] if burst else []
                call_command(
                    "rqworker",
                    "default",
                    "--job-class",
                    "django_tasks_rq.Job",
                    "--with-scheduler",
                    *extra,
                )
        finally:
            if scheduler is not None:
                scheduler.stop()
