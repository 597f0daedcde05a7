"""The code of docs/from-celery.md: Celery idioms as django_solidq tasks.

The page includes these files (pymdownx.snippets); tests/docs/test_docs_from_celery.py runs them.
"""
