"""``python -m django_solidq.conf --reference`` prints the configuration reference (Markdown);
``--write PATH`` rewrites it in PATH (docs/configuration.md) between its markers."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .reference import reference, write


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m django_solidq.conf")
    parser.add_argument("--reference", action="store_true", help="print the reference")
    parser.add_argument("--write", type=Path, metavar="PATH", help="rewrite it in PATH")
    options = parser.parse_args(argv)
    if options.write:
        changed = write(options.write)
        print(f"{options.write}: {'updated' if changed else 'up to date'}")
        return 0
    if options.reference:
        sys.stdout.write(reference())
        return 0
    parser.print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())
