"""The code of ``docs/from-solid-queue.md``: Solid Queue's example jobs as django_solidq tasks.

Every Python block of the guide is copied from these modules (or from
``tests/test_from_solid_queue.py``), and that test imports and runs them.
"""
