"""A local stand-in for the Mailgun and Postmark send APIs, for the dispatch benchmark and the fault suite.

    python benchmarks/fake_provider.py --port 8025 --samples var/bench/samples

POST /v3/<domain>/messages answers like Mailgun ("Queued. Thank you.");
POST /email and /email/batch answer like Postmark (a result per message, a
406 "inactive recipient" entry for a refused address inside a batch, 401
without a server token, 422 for a batch over 500 messages). Both count
recipients; every 25th request body is saved for the benchmark to check
personalisation. GET /stats returns the counts as JSON. Faults for the fault
suite: --fail-rate makes a share of requests answer 503, 429 with
Retry-After, reset the connection, or time out without processing them;
--reject answers 400 (a permanent refusal) for recipients with that prefix.
"""

from __future__ import annotations

import argparse
import json
import random
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs


class Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests = 0
        self.accepted = 0
        self.recipients = 0
        self.refused = 0
        self.rejected_requests = 0
        self.per_recipient: dict[str, int] = {}


def make_handler(
    stats: Stats, samples: Path | None, fail_rate: float, faults: list[str], track: bool, reject: str
):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out as they are written, as from a real API

        def log_message(self, format: str, *args: object) -> None:
            pass

        def _reply(self, status: int, body: dict[str, object], headers: dict[str, str] | None = None) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            with stats.lock:
                body = {
                    "requests": stats.requests,
                    "accepted": stats.accepted,
                    "recipients": stats.recipients,
                    "refused": stats.refused,
                    "rejected_requests": stats.rejected_requests,
                    "duplicates": sum(1 for n in stats.per_recipient.values() if n > 1),
                    "distinct": len(stats.per_recipient),
                }
            self._reply(200, body)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            with stats.lock:
                stats.requests += 1
                number = stats.requests
            if fail_rate and random.random() < fail_rate:
                fault = random.choice(faults)
                with stats.lock:
                    stats.refused += 1
                if fault == "reset":
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                if fault == "timeout":
                    time.sleep(6)  # longer than the client waits; then drop it, unprocessed
                    self.close_connection = True
                    return
                if fault == "429":
                    self._reply(429, {"message": "slow down"}, {"Retry-After": "1"})
                    return
                self._reply(503, {"message": "Service Unavailable"})
                return
            if self.path.startswith("/email"):
                self._postmark(raw, number)
                return
            fields = parse_qs(raw.decode(), keep_blank_values=True)
            recipients = fields.get("to", [])
            if reject and any(address.startswith(reject) for address in recipients):
                with stats.lock:
                    stats.rejected_requests += 1
                self._reply(
                    400, {"message": "'to' parameter is not a valid address. please check documentation"}
                )
                return
            self._count(recipients)
            if samples is not None and number % 25 == 1:
                (samples / f"request-{number:06d}.json").write_text(json.dumps(fields))
            self._reply(200, {"id": f"<bench.{number}@papers.example.org>", "message": "Queued. Thank you."})

        def _count(self, recipients: list[str]) -> None:
            with stats.lock:
                stats.accepted += 1
                stats.recipients += len(recipients)
                if track:
                    for address in recipients:
                        stats.per_recipient[address] = stats.per_recipient.get(address, 0) + 1

        def _postmark(self, raw: bytes, number: int) -> None:
            if not self.headers.get("X-Postmark-Server-Token"):
                self._reply(
                    401, {"ErrorCode": 10, "Message": "No Account or Server API tokens were supplied."}
                )
                return
            try:
                document = json.loads(raw)
            except ValueError:
                self._reply(422, {"ErrorCode": 402, "Message": "Received invalid JSON input."})
                return
            batch = self.path.rstrip("/") == "/email/batch"
            messages = document if batch else [document]
            if not isinstance(messages, list) or len(messages) > 500:
                self._reply(
                    422, {"ErrorCode": 300, "Message": "Batch must be a list of at most 500 messages."}
                )
                return
            results, delivered = [], []
            for message in messages:
                to = str(message.get("To", ""))
                address = to.rsplit("<", 1)[-1].rstrip(">").strip().lower()
                if reject and address.startswith(reject):
                    results.append(
                        {
                            "ErrorCode": 406,
                            "Message": "You tried to send to a recipient that has been marked as inactive.\n"
                            f"Found inactive addresses: {address}.\n"
                            "Inactive recipients are ones that have generated a hard bounce or a spam complaint.",
                        }
                    )
                    continue
                delivered.append(address)
                results.append(
                    {
                        "ErrorCode": 0,
                        "Message": "OK",
                        "MessageID": str(uuid.uuid4()),
                        "SubmittedAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                        "To": to,
                    }
                )
            if len(delivered) < len(messages):
                with stats.lock:
                    stats.rejected_requests += len(messages) - len(delivered)
            self._count(delivered)
            if samples is not None and number % 25 == 1:
                (samples / f"postmark-{number:06d}.json").write_text(json.dumps(messages[:5]))
            self._reply(200, results if batch else results[0])

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--samples", type=Path)
    parser.add_argument("--fail-rate", type=float, default=0.0)
    parser.add_argument("--faults", default="503", help="comma-separated: 503, 429, reset")
    parser.add_argument("--track", action="store_true", help="Count deliveries per recipient (duplicates).")
    parser.add_argument(
        "--reject", default="", help="Answer 400 (permanent) for recipients starting with this."
    )
    args = parser.parse_args()
    if args.samples:
        args.samples.mkdir(parents=True, exist_ok=True)
    stats = Stats()
    handler = make_handler(
        stats, args.samples, args.fail_rate, args.faults.split(","), args.track, args.reject
    )
    server = ThreadingHTTPServer(("127.0.0.1", args.port), handler)
    server.daemon_threads = True
    print(f"fake provider on 127.0.0.1:{args.port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
