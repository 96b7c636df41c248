#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "api_project.settings")
    from django.core.management import execute_from_command_line

    from api_project.config import stop_on_configuration_error

    with stop_on_configuration_error():
        execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
