#!/usr/bin/env python
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ozonseat.settings")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    try:
        execute_from_command_line(sys.argv)
    except ImproperlyConfigured as error:
        # A missing or wrong setting is an operator's problem, not a bug: say what to fix, no traceback.
        sys.stderr.write(f"OzonSeat cannot start: {error}\n")
        sys.exit(1)


if __name__ == "__main__":
    main()
