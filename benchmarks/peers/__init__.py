"""The side-by-side benchmark's systems, one small runner module each.

``benchmarks/compare.py`` (``python benchmarks/run.py --compare``) drives them. Each runner is
run as ``python -m benchmarks.peers.<runner> COMMAND`` in its system's interpreter (ours: the
checkout's; the peers: a throwaway virtualenv) and prints one JSON object on its last line.
Its module top level imports only the standard library, so the orchestrator can read its
``CONFIGS`` and build its worker command lines without the system installed.

Every system runs the same neutral tasks (``_common.record_line``): a job appends one line,
``<time.time() at start> <tag>``, to the file named by ``BENCH_OUT``. Progress, throughput and
latency are all read from that file, the same way for every system.
"""

RUNNERS = ("ours", "celery_redis", "djqueue", "procrastinate_pg", "tasksdb")
