#!/bin/bash
# I/O-bound drain on PostgreSQL: benchmarks/io_drain.sh sync|async N SECONDS BENCH_SOLIDQ-json
# e.g. benchmarks/io_drain.sh sync 4000 0.02 '{"WORKERS":[{"queues":["*"]}]}'  (BENCH_DB_NAME must exist and be migrated)
cd "$(dirname "$0")/.."
export BENCH_DB_NAME=${BENCH_DB_NAME:-solidq_perf_prof} DJANGO_SETTINGS_MODULE=benchmarks.settings PYTHONPATH=$PWD
psql -h 127.0.0.1 -U postgres -d $BENCH_DB_NAME -qc "TRUNCATE solidq_ready_executions, solidq_claimed_executions, solidq_jobs, solidq_processes CASCADE" 2>/dev/null
python -c "
import django; django.setup(); import django_solidq; from benchmarks.io_tasks import sleep_sync, sleep_async
t = sleep_sync if '$1' == 'sync' else sleep_async
[django_solidq.enqueue_all([t.bind($3) for _ in range(1000)]) for _ in range($2 // 1000)]"
BENCH_SOLIDQ="$4" python -m django runjobs > /tmp/perf-io-rj.log 2>&1 &
RJ=$!
start=$(date +%s.%N)
for i in $(seq 1 600); do
  left=$(psql -h 127.0.0.1 -U postgres -d $BENCH_DB_NAME -tAc "select count(*) from solidq_jobs where finished_at is null")
  [ "$left" = "0" ] && break; sleep 0.5
done
kill -TERM $RJ; wait $RJ
psql -h 127.0.0.1 -U postgres -d $BENCH_DB_NAME -tAc "with t as (select finished_at f, row_number() over (order by finished_at) r, count(*) over () c from solidq_jobs where finished_at is not null) select '$1 n=$2 x $3 s, $4: steady 10->90 %: ' || round(((max(r) filter (where r <= c*0.9) - min(r) filter (where r >= c*0.1)) / extract(epoch from (max(f) filter (where r <= c*0.9) - min(f) filter (where r >= c*0.1))))::numeric, 0) || ' jobs/s; failed ' || (select count(*) from solidq_failed_executions) from t"
