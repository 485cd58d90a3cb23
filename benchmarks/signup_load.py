"""Sign-up under load: gunicorn with production settings on PostgreSQL + Redis, driven by wrk.

    .venv/bin/python benchmarks/signup_load.py [--connections 50] [--duration 30]

50 concurrent clients POST the sign-up form for 30 s, each with a valid CSRF
cookie and token and a distinct address. Three seconds of sign-ups and an
ANALYZE come first, unmeasured: autovacuum is off on the development
machines, and from empty tables PostgreSQL would keep planning each commit's
foreign-key checks as scans. The rate limiter is switched off for
this run (RATE_LIMITS_ENABLED=0): otherwise it would, correctly, stop one IP
sending thousands of sign-ups. Afterwards every accepted sign-up (a 302 to
"check your inbox") must exist with its consent record and its owed
confirmation email (beat's sweep sends those; no worker runs here).

Prints p50 and p99 latency, requests/s, the CPU each sign-up cost the web
workers and PostgreSQL, errors and lost sign-ups. It also splits the latency:
the time each sign-up spent in gunicorn (its access log, which the Procfile
keeps too), and the rest, waiting for a free worker. With 50 clients in a
closed loop that wait is set by throughput: the mean latency is 50 divided by
the requests per second. And it samples what PostgreSQL's busy backends wait on: a
sign-up's commit waits for the write-ahead log to reach the disk, and on
these shared hosts a single flush sometimes takes hundreds of milliseconds,
holding up every sign-up at once.
Targets: p99 < 100 ms, 0 errors, 0 lost. Errors or lost sign-ups make it
exit 1; CI runs it for a few seconds (make bench-smoke).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

from common import (
    ROOT,
    Web,
    host_now,
    machine,
    percentile,
    postgres_cpu_seconds,
    setup_django,
    tree_cpu_seconds,
)

LUA = r"""
local counter = 0
accepted = 0  -- a global: the done() callback reads it from each thread
local thread_id = 0
local threads = {}

function setup(thread)
  thread_id = thread_id + 1
  thread:set("tid", thread_id)
  table.insert(threads, thread)
end

function init(args)
  token = args[1]
  cookie = args[2]
  prefix = args[3]
end

request = function()
  counter = counter + 1
  local email = prefix .. tid .. "-" .. counter .. "@bench.example.org"
  local body = "csrfmiddlewaretoken=" .. token .. "&email=" .. email ..
    "&topics=llm&keywords=reasoning&authors=&cadence=daily&timezone=Europe%2FParis&send_hour=7"
  return wrk.format("POST", "/subscribe/", {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Cookie"] = "csrftoken=" .. cookie,
    ["Referer"] = "http://127.0.0.1/subscribe/",
  }, body)
end

response = function(status, headers, body)
  if status == 302 then accepted = accepted + 1 end
end

done = function(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do total = total + thread:get("accepted") end
  io.write(string.format("ACCEPTED %d\n", total))
  io.write(string.format("P50_US %d\nP99_US %d\n", latency:percentile(50), latency:percentile(99)))
  io.write(string.format("REQUESTS %d\nDURATION_US %d\n", summary.requests, summary.duration))
  io.write(string.format("ERRORS %d\n", summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status + summary.errors.timeout))
end
"""


WARM_UP, MEASURED = "warm-up-", "load-"  # the addresses' prefixes
WARM_UP_SECONDS = 3


class WalWatch(threading.Thread):
    """Samples what the benchmark database's busy backends wait on, every 20 ms, while wrk runs.

    A sign-up's commit waits until the write-ahead log is flushed to disk
    (``IO/WALSync`` for the backend flushing, ``LWLock/WALWrite`` for those
    queued behind it). One slow flush holds up every sign-up at once. A
    backend seen flushing in consecutive samples counts as one flush, as long
    as those samples span (to within 20 ms). The sampling costs PostgreSQL a
    small query every 20 ms (about 1% of a core).
    """

    INTERVAL = 0.02

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url.replace("postgres://", "postgresql://", 1)
        self.stop = threading.Event()
        self.busy = 0  # backend samples in a statement
        self.waiting = 0  # backend samples waiting for the WAL flush
        self.flushes: list[float] = []  # seconds each slow-enough-to-see flush took

    def run(self) -> None:
        import psycopg

        query = (
            "SELECT pid, wait_event_type, wait_event FROM pg_stat_activity "
            "WHERE datname = current_database() AND state = 'active' AND pid <> pg_backend_pid()"
        )
        flushing: dict[int, float] = {}  # pid -> when it was first seen flushing
        with psycopg.connect(self.url, autocommit=True) as conn:
            while not self.stop.is_set():
                now = time.monotonic()
                rows = conn.execute(query).fetchall()
                self.busy += len(rows)
                now_flushing = {pid for pid, kind, event in rows if (kind, event) == ("IO", "WALSync")}
                self.waiting += sum(
                    1
                    for _pid, kind, event in rows
                    if (kind, event) in {("IO", "WALSync"), ("LWLock", "WALWrite")}
                )
                for pid in list(flushing):
                    if pid not in now_flushing:
                        self.flushes.append(now - flushing.pop(pid))
                for pid in now_flushing:
                    flushing.setdefault(pid, now)
                self.stop.wait(self.INTERVAL)


def server_times(access_log: Path) -> list[float]:
    """Milliseconds each sign-up POST spent in gunicorn, from the access log (ACCESS_FORMAT)."""
    times = []
    for line in access_log.read_text().splitlines() if access_log.exists() else []:
        fields = line.split()
        if len(fields) == 4 and fields[:2] == ["POST", "/subscribe/"] and fields[3].isdigit():
            times.append(int(fields[3]) / 1000)
    return sorted(times)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--duration", type=int, default=30)
    # gunicorn's own advice for sync workers: (2 x cores) + 1. The rest of gunicorn's settings come
    # from gunicorn.conf.py in the project directory, as in production (the application preloaded).
    parser.add_argument("--web-workers", type=int, default=2 * (os.cpu_count() or 1) + 1)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        print("wrk is not installed (apt-get install wrk)")
        return 1
    setup_django()
    from django.db import connection
    from django.db.models import Q

    from subscribers.models import ConsentRecord, LinkEmail, Subscriber, SubscriberEvent

    tables = [
        connection.ops.quote_name(model._meta.db_table)
        for model in (Subscriber, ConsentRecord, LinkEmail, SubscriberEvent)
    ]
    Subscriber.objects.filter(Q(email__startswith=WARM_UP) | Q(email__startswith=MEASURED)).delete()
    # Clear the last run's dead rows now, so they are not cleared during the measurement.
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"VACUUM {table}")
    host = host_now()  # before gunicorn starts: it times the host, not the run
    port = 18765
    access_log = ROOT / "var" / "bench" / "access.log"
    access_log.unlink(missing_ok=True)
    script = ROOT / "var" / "bench" / "signup.lua"
    script.write_text(LUA)
    web = Web(
        workers=args.web_workers,
        port=port,
        log=ROOT / "var" / "bench" / "gunicorn.log",
        access_log=access_log,
    )

    def wrk(prefix: str, seconds: int) -> str:
        command = ["wrk", "-t", "2", "-c", str(args.connections), "-d", f"{seconds}s", "--latency"]
        command += ["-s", str(script), web.base, "--", web.token, web.cookie, prefix]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise SystemExit(f"wrk failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    try:
        # A list in service has earlier sign-ups, and autovacuum keeps PostgreSQL's statistics of
        # them current. These machines run PostgreSQL with autovacuum off, and the tables may be
        # empty now: the foreign-key checks each commit runs would then be planned as scans of a
        # table thought empty, and those plans kept while it grows, until they took most of
        # PostgreSQL's time. So a few seconds of sign-ups come first, then ANALYZE, as autovacuum
        # would have run it by then.
        wrk(WARM_UP, WARM_UP_SECONDS)
        with connection.cursor() as cursor:
            for table in tables:
                cursor.execute(f"ANALYZE {table}")
        os.truncate(access_log, 0)  # gunicorn appends: the log now holds the measured sign-ups only
        wal = WalWatch(os.environ["DATABASE_URL"])
        wal.start()
        # Where the two cores went: the web workers, and every PostgreSQL process (autovacuum included).
        web_cpu, postgres_cpu = tree_cpu_seconds(web.process.pid), postgres_cpu_seconds()
        output = wrk(MEASURED, args.duration)
        web_cpu = tree_cpu_seconds(web.process.pid) - web_cpu
        postgres_cpu = postgres_cpu_seconds() - postgres_cpu
        wal.stop.set()
        wal.join()
    finally:
        web.close()
    figures = dict(re.findall(r"^([A-Z0-9_]+) (\d+)$", output, re.MULTILINE))
    accepted = int(figures["ACCEPTED"])
    requests = int(figures["REQUESTS"])
    seconds = int(figures["DURATION_US"]) / 1e6
    stored = Subscriber.objects.filter(email__startswith=MEASURED).count()
    with_consent = (
        ConsentRecord.objects.filter(subscriber__email__startswith=MEASURED)
        .values("subscriber")
        .distinct()
        .count()
    )
    with_email = (
        LinkEmail.objects.filter(subscriber__email__startswith=MEASURED, kind=LinkEmail.Kind.CONFIRMATION)
        .values("subscriber")
        .distinct()
        .count()
    )
    errors = int(figures["ERRORS"]) + (requests - accepted)
    print(
        f"sign-up load on {machine()}: gunicorn x{args.web_workers} (sync, gunicorn.conf.py), PostgreSQL, Redis; wrk {args.connections} connections, {args.duration} s; rate limiter off for the run"
    )
    print(host)
    rate = requests / seconds
    print(f"requests             {requests:,}  ({rate:,.0f} requests/s)")
    print(
        f"latency              p50 {int(figures['P50_US']) / 1000:.1f} ms, p99 {int(figures['P99_US']) / 1000:.1f} ms   (target p99 < 100 ms)"
    )
    print(
        f"CPU per request      gunicorn (Django and gunicorn) {web_cpu / requests * 1000:.2f} ms, "
        f"PostgreSQL {postgres_cpu / requests * 1000:.2f} ms, on {os.cpu_count()} cores"
    )
    in_server = server_times(access_log)
    if in_server:
        print(
            f"in the server        p50 {percentile(in_server, 50):.1f} ms, p99 {percentile(in_server, 99):.1f} ms   "
            "(gunicorn's access log: from the request read to the answer written)"
        )
    # In a closed loop (each client sends again as soon as it is answered) the mean latency is the
    # number of clients over the throughput (Little's law); beyond the time in the server, it is waiting
    # for a free worker.
    print(
        f"waiting              mean latency = {args.connections} clients / {rate:,.0f} requests/s = "
        f"{args.connections / rate * 1000:.0f} ms (Little's law): a p99 under 100 ms needs well over "
        f"{args.connections * 10:,} requests/s"
    )
    slow = sorted((f for f in wal.flushes if f >= 0.05), reverse=True)
    print(
        f"WAL flushes          busy backends were waiting for the log flush in "
        f"{wal.waiting / max(wal.busy, 1):.0%} of samples; {len(slow)} flushes took 50 ms or more"
        + (f" (longest {slow[0] * 1000:.0f} ms), each holding up every sign-up" if slow else "")
    )
    print(f"errors               {errors}   (target 0)")
    # wrk counts answers that arrived before its time was up; a few more were in flight then.
    lost = max(0, accepted - min(stored, with_consent, with_email))
    print(
        f"accepted sign-ups    {accepted:,}; in the database {stored:,}, with a consent record {with_consent:,}, "
        f"with a confirmation email owed {with_email:,} "
        f"({stored - accepted:,} more were in flight when wrk stopped); lost {lost}   (target 0)"
    )
    # As the dispatch benchmark does: wrong results fail the run; speed only prints.
    failures = []
    if errors:
        failures.append(f"{errors} requests failed")
    if lost:
        failures.append(f"{lost} accepted sign-ups lost")
    if not accepted:
        failures.append("no sign-up was accepted")
    for failure in failures:
        print(f"FAILED: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
