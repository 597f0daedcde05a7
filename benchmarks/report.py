"""Turns the raw results of ``benchmarks/run.py`` into the Markdown table it prints and writes
into docs/benchmarks.md. Only formatting and the target verdicts live here."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

TARGET_DRAIN = 2000.0  # no-op jobs/s, two worker processes (steady state)
TARGET_RATIO = 4.0  # ... and this many times django-tasks-db's single db_worker
TARGET_LATENCY_MS = 5.0  # enqueue -> start p50, idle worker
TARGET_SINGLE = 1500.0  # task.enqueue() per second
TARGET_BULK = 20000.0  # enqueue_all jobs per second
TARGET_KILL_S = 5.0  # kill -9 -> the job running again

RESULTS_START = "<!-- results:start (written by benchmarks/run.py) -->"
RESULTS_END = "<!-- results:end -->"
NONE = "-"


def num(value: float | None, fmt: str = "{:,.0f}") -> str:
    return NONE if value is None else fmt.format(value)


def mb(kb_values: list[int]) -> str:
    if not kb_values:
        return NONE
    return " / ".join(f"{kb / 1024:.0f}" for kb in kb_values) + " MB"


def verdict(ok: bool | None, why: str = "") -> str:
    if ok is None:
        return "n/a" + (f" ({why})" if why else "")
    return ("**met**" if ok else "**not met**") + (f" ({why})" if why else "")


def failed(value: Any) -> str | None:
    if value is None:
        return "not run"
    if isinstance(value, dict) and "error" in value and not value.get("partial"):
        return f"FAILED: {value['error']}"
    return None


# -- drains ---------------------------------------------------------------------------------


def best(runs: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The run with the highest steady rate (complete runs first)."""
    complete = [r for r in runs if r.get("steady_rate") and not r.get("error")]
    usable = complete or [r for r in runs if r.get("steady_rate") or r.get("total_rate")]
    if not usable:
        return None
    return max(usable, key=lambda r: r.get("steady_rate") or r.get("total_rate") or 0.0)


def drain_runs(side: dict[str, Any], processes: int) -> list[dict[str, Any]]:
    return side.get("drain", {}).get(str(processes), [])


def drain_cells(runs: list[dict[str, Any]], with_threads: bool) -> tuple[str, str]:
    if not runs:
        return "not run", "not run"
    chosen = best(runs)
    if chosen is None:
        message = "FAILED: " + "; ".join(str(r.get("error")) for r in runs)
        return message, message
    label = f" ({chosen['threads']} threads)" if with_threads else ""
    if chosen.get("error"):
        total = f"{chosen['error']}{label}"
    else:
        total = (
            f"{chosen['total_s']:.2f} s for {chosen['n']:,} = {chosen['total_rate']:,.0f}/s{label}"
        )
    steady = num(chosen.get("steady_rate"), "{:,.0f}/s") + label
    return total, steady


def drain_verdict(ours: dict[str, Any], peer: dict[str, Any]) -> str:
    ob, pb = best(drain_runs(ours, 2)), best(drain_runs(peer, 1))
    rate = ob.get("steady_rate") if ob else None
    if rate is None:
        return verdict(None, "no 2-process run of ours")
    ok = rate >= TARGET_DRAIN
    parts = [f"{rate:,.0f}/s {'>=' if ok else '<'} {TARGET_DRAIN:,.0f}/s"]
    peer_rate = pb.get("steady_rate") if pb else None
    if peer_rate:
        ratio = rate / peer_rate
        ok = ok and ratio >= TARGET_RATIO
        parts.append(f"{ratio:.1f}x the peer's single db_worker")
    else:
        parts.append("peer not measured")
    return verdict(ok, ", ".join(parts))


def drain_rows(ours: dict[str, Any], peer: dict[str, Any]) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for processes in (1, 2):
        o_total, o_steady = drain_cells(drain_runs(ours, processes), True)
        p_total, p_steady = drain_cells(drain_runs(peer, processes), False)
        what = f"No-op drain, {processes} worker process{'es' if processes == 2 else ''}"
        rows.append((f"{what}: start -> all done", o_total, p_total, "", ""))
        target, judged = "", ""
        if processes == 2:
            target = f">= {TARGET_DRAIN:,.0f}/s and >= {TARGET_RATIO:.0f}x peer's 1 process"
            judged = drain_verdict(ours, peer)
        rows.append((f"{what}: steady rate, 10 % -> 90 % done", o_steady, p_steady, target, judged))
    return rows


def drain_detail(results: dict[str, Any]) -> list[str]:
    lines = [
        "",
        "All drain runs. *transactions/job*: transactions the database committed during the "
        "drain (this script's polls subtracted) per job. *CPU ms/job* between 10 % and 90 % "
        "done: the system's own processes (runjobs' supervisor, workers and dispatcher, or the "
        "db_workers) / the PostgreSQL backends serving them / everything else on the machine; "
        "*cores busy*: of the machine's cores, in that window.",
        "",
        "| system | processes | threads | jobs | start -> all done | steady 10->90 % "
        "| first job done after | transactions/job | CPU ms/job: app / db / other "
        "| cores busy | peak RSS per worker | note |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for key, label in (("ours", "django_solidq"), ("peer", "django-tasks-db")):
        for processes in (1, 2):
            for r in drain_runs(results.get(key, {}), processes):
                total = (
                    f"{num(r.get('total_s'), '{:.2f} s')} ({num(r.get('total_rate'), '{:,.0f}/s')})"
                )
                lines.append(
                    f"| {label} | {r.get('processes', processes)} | {r.get('threads', NONE)} | "
                    f"{r.get('done', 0):,}/{r.get('n', 0):,} | {total} | "
                    f"{num(r.get('steady_rate'), '{:,.0f}/s')} | "
                    f"{num(r.get('first_done_s'), '{:.2f} s')} | "
                    f"{num(r.get('commits_per_job'), '{:.2f}')} | {cpu_cells(r)} | "
                    f"{mb(r.get('rss_kb', []))} | {r.get('error', '')} |"
                )
    return lines


def cpu_cells(run: dict[str, Any]) -> str:
    cpu = run.get("cpu")
    if not cpu:
        return f"{NONE} | {NONE}"
    return (
        f"{cpu['app_ms']:.2f} / {cpu['db_ms']:.2f} / {cpu['other_ms']:.2f} | "
        f"{cpu['cores_busy']:.2f}"
    )


# -- the other rows -------------------------------------------------------------------------


def latency_cell(side: dict[str, Any]) -> str:
    value = side.get("latency")
    if message := failed(value):
        return message
    return (
        f"p50 {value['p50_ms']:.1f} ms, p95 {value['p95_ms']:.1f} ms "
        f"(from commit: p50 {value['p50_from_commit_ms']:.1f}, "
        f"p95 {value['p95_from_commit_ms']:.1f}; enqueue call p50 "
        f"{value['enqueue_call_p50_ms']:.1f} ms; n={value['measured']})"
    )


def enqueue_cell(side: dict[str, Any], kind: str) -> tuple[str, float | None]:
    value = side.get("enqueue", {}).get(kind)
    if message := failed(value):
        return message, None
    if "unsupported" in value:
        return f"n/a ({value['unsupported']})", None
    rates = value["rates"]
    spread = f", range {min(rates):,.0f}-{max(rates):,.0f}" if len(rates) > 1 else ""
    return f"{value['rate']:,.0f}/s (median of {len(rates)} x {value['n']:,} jobs{spread})", value[
        "rate"
    ]


def rss_cell(side: dict[str, Any], with_threads: bool) -> str:
    parts = []
    for processes in (1, 2):
        chosen = best(drain_runs(side, processes))
        if chosen and chosen.get("rss_kb"):
            label = f", {chosen['threads']} threads" if with_threads else ""
            parts.append(f"{processes} proc{label}: {mb(chosen['rss_kb'])}")
    return "; ".join(parts) or NONE


def kill_cells(ours: dict[str, Any], peer: dict[str, Any]) -> tuple[str, str, str]:
    kill = ours.get("kill")
    if message := failed(kill):
        ours_cell = message
        judged = verdict(None) if kill is None else verdict(False, "failed")
    else:
        ours_cell = (
            f"running again {kill['running_s']:.2f} s after the kill (back in ready after "
            f"{num(kill['ready_s'], '{:.2f}')} s); re-run finished: "
            f"{'yes' if kill['finished'] else 'no'}; lost attempt recorded: "
            f"{'yes' if kill['lost_attempt_recorded'] else 'no'}"
        )
        judged = verdict(kill["running_s"] <= TARGET_KILL_S, f"{kill['running_s']:.2f} s")
    pkill = peer.get("kill")
    if message := failed(pkill):
        peer_cell = message
    else:
        again = pkill["status_after"] != "RUNNING"
        peer_cell = (
            f"status {pkill['status_after']} {pkill['watched_s']:.0f} s after the kill, with a "
            f"fresh db_worker running ({'ran again' if again else 'never re-run'})"
        )
    return ours_cell, peer_cell, judged


def calibration_cell(side: dict[str, Any]) -> str:
    value = side.get("calibration")
    if message := failed(value):
        return message
    return f"{value['rate']:,.0f}/s ({value['ms']:.2f} ms each)"


def load_cell(side: dict[str, Any]) -> str:
    found = re.findall(r'"load": \[([\d.]+), ([\d.]+)\]', json.dumps(side))
    values = [float(v) for pair in found for v in pair]
    return f"{min(values):.1f} to {max(values):.1f}" if values else NONE


def build_table(results: dict[str, Any]) -> str:
    ours, peer = results.get("ours", {}), results.get("peer", {})
    rows = drain_rows(ours, peer)

    latency = ours.get("latency") or {}
    p50 = latency.get("p50_ms")
    rows.append(
        (
            "Enqueue -> start latency, idle worker (from the enqueue call)",
            latency_cell(ours),
            latency_cell(peer),
            f"p50 <= {TARGET_LATENCY_MS:.0f} ms",
            verdict(None) if p50 is None else verdict(p50 <= TARGET_LATENCY_MS, f"{p50:.1f} ms"),
        )
    )
    for kind, what, target in (
        ("single", "Enqueue, `task.enqueue()` in a loop", TARGET_SINGLE),
        ("bulk", "Enqueue, bulk (`enqueue_all`)", TARGET_BULK),
    ):
        cell, rate = enqueue_cell(ours, kind)
        judged = verdict(None) if rate is None else verdict(rate >= target)
        rows.append((what, cell, enqueue_cell(peer, kind)[0], f">= {target:,.0f}/s", judged))
    rows.append(
        (
            "Peak RSS per worker process (VmHWM, best drain run)",
            rss_cell(ours, True),
            rss_cell(peer, False),
            "",
            "",
        )
    )
    ours_kill, peer_kill, kill_verdict = kill_cells(ours, peer)
    rows.append(
        (
            "kill -9 of the worker mid-job -> job running again",
            ours_kill,
            peer_kill,
            f"<= {TARGET_KILL_S:.0f} s",
            kill_verdict,
        )
    )
    rows.append(
        (
            "Calibration: raw psycopg INSERT + COMMIT, 1 connection",
            calibration_cell(ours),
            calibration_cell(peer),
            "",
            "ceiling for 1 durable commit at a time",
        )
    )
    rows.append(
        ("1-minute load average around the measurements", load_cell(ours), load_cell(peer), "", "")
    )
    lines = [
        "| measurement | django_solidq | django-tasks-db | target | verdict |",
        "| --- | --- | --- | --- | --- |",
    ]
    lines += ["| " + " | ".join(cell.replace("|", "/") for cell in row) + " |" for row in rows]
    lines += drain_detail(results)
    if ours.get("profile"):
        lines += ["", "Where a worker's threads spent a drain (py-spy, --profile):", "", "```"]
        lines += ours["profile"].get("text", str(ours["profile"])).splitlines()
        lines += ["```"]
    return "\n".join(lines)


# -- docs/benchmarks.md ---------------------------------------------------------------------


def render_results(info: dict[str, str], table: str, command: str) -> str:
    free = "\n".join("    " + line for line in info["free"].splitlines())
    return f"""{RESULTS_START}

Run on {info["date"]} with `{command}` ({info.get("elapsed", "?")}).

* Machine: `nproc` = {info["nproc"]} ({info["cpu"]}), Linux {info["kernel"]}, `free -h`:

{free}

* PostgreSQL {info["postgres"]} on 127.0.0.1 (synchronous_commit: {info["synchronous_commit"]});
  Python {info["python"]}, Django {info["django"]}, psycopg {info["psycopg"]};
  django_solidq at {info["django_solidq"]}; peer: {info.get("peer", "not run")}.

{table}

{RESULTS_END}"""


def write_doc(doc: Path, block: str) -> None:
    """Replace the results block of ``doc`` (or append one), keeping the rest of the page."""
    if not doc.exists():
        doc.write_text(f"# Benchmarks\n\nSee benchmarks/README.md.\n\n## Results\n\n{block}\n")
        return
    text = doc.read_text()
    pattern = re.compile(re.escape(RESULTS_START) + r".*?" + re.escape(RESULTS_END), re.S)
    if pattern.search(text):
        doc.write_text(pattern.sub(lambda _: block, text))
    else:
        doc.write_text(text.rstrip() + "\n\n## Results\n\n" + block + "\n")
