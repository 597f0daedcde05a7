#!/usr/bin/env python
"""The demo project's manage.py: ``python manage.py runserver`` / ``runjobs`` / ``demo_enqueue``.

SQLite (``testproject/db.sqlite3``) by default; ``SOLIDQ_DEMO_DB=postgres`` or ``mysql`` uses the
local PostgreSQL / MariaDB server, database ``solidq_demo``.
"""

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    # The repository root, for ``testproject.dbconfig`` (and django_solidq if not installed).
    sys.path.insert(1, str(HERE.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "demo_site.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
