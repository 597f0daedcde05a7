"""The layer check (scripts/layers.py, a CI step) passes on the package, and catches each kind
of violation in a package built for the test."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "layers.py"


@pytest.fixture(scope="module")
def layers() -> ModuleType:
    spec = importlib.util.spec_from_file_location("solidq_layers", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while building
    spec.loader.exec_module(module)
    return module


def build(root: Path, files: dict[str, str]) -> Path:
    for name, text in {"__init__.py": "", "models/__init__.py": "", **files}.items():
        path = root / "django_solidq" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_the_package_keeps_its_layers(layers: ModuleType) -> None:
    assert layers.violations() == []


def test_an_import_pointing_up_is_caught(layers: ModuleType, tmp_path: Path) -> None:
    root = build(
        tmp_path, {"backend.py": "", "models/job.py": "from django_solidq import backend\n"}
    )
    [problem] = layers.violations(root)
    assert "models/job.py:1" in problem and "django_solidq.backend (services)" in problem


def test_an_import_inside_a_function_is_caught_unless_it_says_why(
    layers: ModuleType, tmp_path: Path
) -> None:
    root = build(
        tmp_path,
        {
            "conf.py": "",
            "backend.py": (
                "def hidden():\n    from django_solidq import conf\n"
                "def child():\n    from django_solidq import conf  # late import: after setup\n"
            ),
        },
    )
    assert layers.violations(root) == [
        "django_solidq/backend.py:2: imports django_solidq.conf inside a function"
    ]


def test_type_checking_imports_are_not_imports(layers: ModuleType, tmp_path: Path) -> None:
    root = build(
        tmp_path,
        {
            "backend.py": "",
            "models/job.py": (
                "from typing import TYPE_CHECKING\n"
                "if TYPE_CHECKING:\n    from django_solidq.backend import X\n"
            ),
        },
    )
    assert layers.violations(root) == []


def test_walls_and_cycles_are_caught(layers: ModuleType, tmp_path: Path) -> None:
    root = build(
        tmp_path,
        {
            "runtime/__init__.py": "",
            "runtime/worker.py": "from django_solidq.admin import jobs\n",
            "admin/__init__.py": "",
            "admin/jobs.py": "from . import queues\n",
            "admin/queues.py": "from .jobs import X\n",
        },
    )
    problems = layers.violations(root)
    assert (
        "django_solidq/runtime/worker.py:1: runtime must not import django_solidq.admin.jobs"
        in problems
    )
    assert "import cycle: django_solidq.admin.jobs <-> django_solidq.admin.queues" in problems
