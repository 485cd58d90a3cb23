"""run: start the Procfile's processes (web, Celery worker, Celery beat) under honcho, as `make run` does."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from django.core.management.base import BaseCommand, CommandParser
from honcho import command as honcho_command
from honcho import manager as honcho_manager

# honcho's exit status after it stopped every process on Ctrl-C (SIGINT).
STOPPED_BY_CTRL_C = 130
# Seconds between honcho's SIGTERM and its SIGKILL, instead of honcho's 5. A Celery worker stopping lets its
# running task finish; over the filesystem broker (no REDIS_URL) it needs longer than that even when idle.
STOP_WAIT = 30


class Command(BaseCommand):
    help = (
        "Start gunicorn, a Celery worker and Celery beat from the Procfile, with their output "
        "interleaved. Ctrl-C stops all three and exits 0."
    )
    requires_system_checks: list[str] = []  # the processes it starts run them

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--port", type=int, default=int(os.environ.get("PORT", "8000")), help="Where gunicorn listens."
        )

    def handle(self, *args: object, port: int, **options: object) -> None:
        honcho_manager.KILL_WAIT = STOP_WAIT
        with terminal_foreground():
            try:
                honcho_command.main(["start", "--port", str(port)])
                status: object = 0
            except SystemExit as stop:
                status = stop.code
        if status not in (0, None, STOPPED_BY_CTRL_C):  # a process failed: say so to the caller
            raise SystemExit(status)


@contextmanager
def terminal_foreground() -> Iterator[None]:
    """Make this process the terminal's foreground job while it runs, as a shell's ``fg`` does.

    A terminal sends Ctrl-C's SIGINT to its whole foreground job: `make`
    included, which then reports "Interrupt" and exits 130 whatever its
    recipe does. In a job of its own, only this process (and honcho in it)
    gets the signal; honcho stops the processes, which run in sessions of
    their own. Without a terminal, or when started in the background, nothing
    changes. Ctrl-Z is ignored meanwhile: a stopped foreground job would keep
    the terminal from everyone else.
    """
    fd = sys.stdin.fileno() if sys.stdin is not None and sys.stdin.isatty() else -1
    if fd < 0 or os.tcgetpgrp(fd) != os.getpgrp():
        yield
        return
    previous = os.getpgrp()
    saved = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGTTOU, signal.SIGTSTP)}
    try:
        os.setpgid(0, 0)
        os.tcsetpgrp(fd, os.getpgrp())
    except OSError:  # a session leader cannot move to a group of its own: leave things as they are
        pass
    try:
        yield
    finally:
        with suppress(OSError):
            os.tcsetpgrp(fd, previous)
        for sig, handler in saved.items():
            signal.signal(sig, handler)
