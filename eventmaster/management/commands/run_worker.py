from argparse import ArgumentParser
from typing import Any

from django_tasks_db.management.commands.db_worker import Command as DBWorkerCommand

from eventmaster.tasks import Worker


class Command(DBWorkerCommand):
    help = (
        "Run a background worker: it takes tasks from the database queue until SIGTERM or SIGINT (it finishes "
        "the task at hand first). Run as many as you like, on as many machines as share the database."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        super().add_arguments(parser)
        # Every queue by default, and no autoreload (DEBUG's default there).
        parser.set_defaults(queue_name="*", reload=False)

    def handle(self, *args: Any, **options: Any) -> None:
        self.configure_logging(options["verbosity"])
        queue_names = options["queue_name"].split(",")
        excluded = options["exclude_queues"].split(",") if options["exclude_queues"] else []
        worker = Worker(
            queue_names=queue_names,
            interval=options["interval"],
            batch=options["batch"],
            backend_name=options["backend_name"],
            startup_delay=options["startup_delay"],
            max_tasks=options["max_tasks"],
            worker_id=options["worker_id"],
            excluded_queue_names=excluded,
        )
        worker.configure_signals()
        worker.serve()
