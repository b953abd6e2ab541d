"""Started by Python in every process whose PYTHONPATH holds this folder: with OZONSEAT_TEST_CLOCK_SHIFT_DAYS
set, the process's clock runs that many days ahead (time-machine, ticking), so the web server and Celery
worker that end-to-end tests start live on the same moved calendar as the test process."""

import os

_days = os.environ.get("OZONSEAT_TEST_CLOCK_SHIFT_DAYS")
if _days:
    from tests.clock.shift import start_shifted_clock

    start_shifted_clock(int(_days))
