"""Benchmarks of django_solidq against django-tasks-db (see benchmarks/README.md)."""
