"""The files of docs/quickstart.md, included in the page (pymdownx.snippets) and run by
tests/docs/test_docs_quickstart.py in a project made with ``django-admin startproject``."""
