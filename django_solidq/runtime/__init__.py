"""Actors: processes, threads, signals and time. They call model methods; no SQL of their own."""
