"""MkDocs hooks of the documentation site (``hooks:`` in mkdocs.yml).

The pages are read on GitHub too, where a link to a file of the repository outside the site
(``../README.md``, ``../benchmarks/README.md``, ``examples/testing/``) works. In the site such
a link has no page to go to: it becomes a link into the repository when ``repo_url`` is set in
mkdocs.yml, and plain text otherwise, so that ``mkdocs build --strict`` stays clean.

A page that is only ``--8<-- "CHANGELOG.md"`` (a file at the repository's root) gets that
file's text, its links made relative to docs/ (``docs/x.md`` is the page ``x.md``), here
rather than by pymdownx.snippets so that its links are checked like any page's.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path
from typing import Any

LINK = re.compile(r"(?<!!)\[(?P<text>[^\]\n]+)\]\((?P<target>[^)\s]+)\)")
EXTERNAL = re.compile(r"^([a-z][a-z0-9+.-]*:|#|/)", re.I)
INCLUDE_ROOT_FILE = re.compile(r'--8<-- "(?P<path>[A-Z]+\.md)"')


def _outside_the_site(page_path: str, target: str, site_pages: set[str]) -> str | None:
    """The repository path of ``target`` when it is not a page of the site, else None."""
    if EXTERNAL.match(target):
        return None
    path = target.split("#", 1)[0]
    if not path:
        return None
    resolved = posixpath.normpath(posixpath.join("docs", posixpath.dirname(page_path), path))
    inside = resolved.startswith("docs/") and not resolved.startswith("docs/examples")
    if inside and resolved.removeprefix("docs/") in site_pages:
        return None
    if inside and not path.endswith("/") and not resolved.startswith("docs/examples"):
        return None  # a missing page: leave it to mkdocs, which reports it
    return resolved + ("/" if path.endswith("/") else "")


def _from_the_root(markdown: str) -> str:
    """Links of a file at the repository's root (CHANGELOG.md), made relative to docs/."""

    def replace(match: re.Match[str]) -> str:
        target = match["target"]
        if EXTERNAL.match(target):
            return match.group(0)
        target = target.removeprefix("docs/") if target.startswith("docs/") else "../" + target
        return f"[{match['text']}]({target})"

    return LINK.sub(replace, markdown)


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    site_pages = {file.src_uri for file in files}
    include = INCLUDE_ROOT_FILE.fullmatch(markdown.strip())
    if include:  # docs/changelog.md is the line --8<-- "CHANGELOG.md"
        root = Path(config["config_file_path"]).parent
        markdown = _from_the_root((root / include["path"]).read_text(encoding="utf-8"))
    repo_url = (config.get("repo_url") or "").rstrip("/")

    def replace(match: re.Match[str]) -> str:
        where = _outside_the_site(page.file.src_uri, match["target"], site_pages)
        if where is None:
            return match.group(0)
        if repo_url:
            kind = "tree" if where.endswith("/") else "blob"
            return f"[{match['text']}]({repo_url}/{kind}/main/{where})"
        return match["text"]

    return LINK.sub(replace, markdown)
