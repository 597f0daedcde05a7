"""The code of the documentation's examples, run by the tests.

The modules here are ``docs/from-solid-queue.md``'s Solid Queue example jobs as django_solidq
tasks: that page (and the Tasks, Enqueueing, Retries, Timeouts and Hooks pages) copy their
blocks from them, and ``tests/docs/test_from_solid_queue.py`` imports and runs them.
``testing/``, ``quickstart/`` and ``celery/`` are included whole or by section
(pymdownx.snippets, ``# --8<-- [start:name]`` markers) by the Testing, Quickstart and From
Celery pages, and run by ``tests/services/test_testing_kit.py``,
``tests/docs/test_docs_quickstart.py`` and ``tests/docs/test_docs_from_celery.py``.
"""
