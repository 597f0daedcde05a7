"""WSGI entry point of the demo project."""

import os
import sys
from pathlib import Path

sys.path.insert(1, str(Path(__file__).resolve().parents[2]))  # repository root
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "demo_site.settings")

from django.core.wsgi import get_wsgi_application

application = get_wsgi_application()
