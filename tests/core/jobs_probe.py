"""Run by test_jobs in separate processes: a scheduler with one one-second job that appends its
slot to a file, for a few seconds."""

import os
import sys
import time
from datetime import timedelta

from config import load_settings
from core.db import Database
from core.jobs import Job, start_scheduler


def record(settings, database, slot_start):
    line = f"{int(slot_start.timestamp())} {os.getpid()}\n".encode()
    fd = os.open(sys.argv[1], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


if __name__ == "__main__":
    settings = load_settings()
    database = Database(settings.database_url)
    scheduler = start_scheduler(
        settings, database, jobs=[Job("probe", timedelta(seconds=1), record)]
    )
    time.sleep(float(sys.argv[2]))
    scheduler.shutdown(wait=True)
    database.dispose()
