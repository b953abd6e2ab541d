"""The whole suite on another calendar: `OZONSEAT_TEST_CLOCK_SHIFT_DAYS=365 make test` runs every test with
the clock a year ahead (no test may depend on today's date). The clock keeps ticking, so timeouts and
ordering behave as usual; child processes started by the tests get the same shift through
tests/clock/sitecustomize.py on their PYTHONPATH."""

import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

CLOCK_FOLDER = Path(__file__).resolve().parent
ENV = "OZONSEAT_TEST_CLOCK_SHIFT_DAYS"
_traveller = None


def shift_days() -> int:
    return int(os.environ.get(ENV) or 0)


def start_shifted_clock(days: int) -> None:
    global _traveller
    if _traveller is not None or not days:
        return
    import time_machine

    _traveller = time_machine.travel(datetime.now(UTC) + timedelta(days=days), tick=True)
    _traveller.start()
    # time-machine starts ticking at the first reading, not at start(): read now, so this process's clock
    # and its children's (started later, each reading at its own start) all run at real time plus the shift.
    time.time()


def child_environment(env: dict) -> dict:
    """`env` for a child process, carrying the shift (if any) to it."""
    if not shift_days():
        return env
    root = str(CLOCK_FOLDER.parents[1])
    paths = [str(CLOCK_FOLDER), root, *filter(None, env.get("PYTHONPATH", "").split(os.pathsep))]
    return {**env, ENV: str(shift_days()), "PYTHONPATH": os.pathsep.join(paths)}
