"""Webhook delivery against a local HTTP server on 127.0.0.1 (a thread of the test, stopped at the end):
success with a signature the receiver verifies, a retry after HTTP 500, a timeout, no retry after 400, and
`geih alerts --webhook` keeping the file when delivery fails."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from geih.alerts.webhook import SECRET_ENV, SIGNATURE_HEADER, Webhook, deliver, signature, verify
from geih.cli import main
from geih.errors import GeihError
from geih.stage import run_main
from tests.alerts.support import column_bundle, frame

pytestmark = pytest.mark.pipeline  # starts servers
SECRET = "s3cret-for-tests"


class Receiver:
    """Answers POSTs with the next status of `script` (the last one repeats); status 0 = never answer in
    time (sleeps `stall_s`). Records (body, headers) of each request."""

    def __init__(self, script: list[int], stall_s: float = 1.0) -> None:
        self.script, self.stall_s, self.received = list(script), stall_s, []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((body, self.headers))
                status = receiver.script.pop(0) if len(receiver.script) > 1 else receiver.script[0]
                if status == 0:
                    time.sleep(receiver.stall_s)
                    status = 200
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:
                    pass  # the client gave up (timeout)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def __enter__(self) -> Receiver:
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@pytest.fixture
def waits() -> Iterator[list[float]]:
    yield []


def test_success_is_signed_and_the_signature_verifies(waits):
    body = json.dumps({"type": "FeatureCollection", "features": []}).encode()
    with Receiver([200]) as receiver:
        delivery = deliver(Webhook(receiver.url, SECRET), body, sleep=waits.append)
    assert (delivery.ok, delivery.attempts, delivery.status) == (True, 1, 200) and waits == []
    got_body, headers = receiver.received[0]
    assert got_body == body and headers["Content-Type"].startswith("application/json")
    assert verify(got_body, SECRET, headers[SIGNATURE_HEADER])
    assert not verify(got_body + b" ", SECRET, headers[SIGNATURE_HEADER])
    assert not verify(got_body, "another secret", headers[SIGNATURE_HEADER])
    assert headers[SIGNATURE_HEADER] == signature(body, SECRET)


def test_a_500_is_retried_with_exponential_backoff(waits):
    with Receiver([500, 503, 200]) as receiver:
        delivery = deliver(Webhook(receiver.url, SECRET, retries=3, backoff_s=0.5), b"{}", sleep=waits.append)
    assert (delivery.ok, delivery.attempts) == (True, 3) and waits == [0.5, 1.0]
    assert len(receiver.received) == 3


def test_a_timeout_is_retried_then_reported(waits):
    with Receiver([0], stall_s=1.5) as receiver:
        delivery = deliver(Webhook(receiver.url, SECRET, timeout_s=0.2, retries=1, backoff_s=0.01),
                           b"{}", sleep=waits.append)
    assert not delivery.ok and delivery.attempts == 2 and delivery.status is None
    assert "no answer within 0.2 s" in delivery.error and waits == [0.01]


def test_a_client_error_is_not_retried(waits):
    with Receiver([400]) as receiver:
        delivery = deliver(Webhook(receiver.url, SECRET), b"{}", sleep=waits.append)
    assert (delivery.ok, delivery.attempts, delivery.status) == (False, 1, 400) and waits == []


def test_bad_webhook_settings_are_refused():
    with pytest.raises(GeihError, match="expected an http"):
        Webhook("ftp://127.0.0.1/x")
    with pytest.raises(GeihError, match="timeout"):
        Webhook("http://127.0.0.1/x", timeout_s=0)


def test_cli_writes_the_file_first_and_fails_loudly_when_delivery_fails(tmp_path: Path, monkeypatch, caplog):
    bundle = column_bundle(tmp_path / "bundle")
    source = tmp_path / "features.parquet"
    frame([0.9, 0.2]).to_parquet(source)
    monkeypatch.setenv(SECRET_ENV, SECRET)
    out = tmp_path / "alerts.geojson"
    with Receiver([500]) as receiver:
        code = run_main(main, ["alerts", "--bundle", str(bundle), "--input", str(source), "--out", str(out),
                               "--webhook", receiver.url, "--webhook-retries", "1", "--webhook-timeout", "2"])
    assert code == 2 and "did not take them after 2 attempt(s): HTTP 500" in caplog.text
    assert str(out) in caplog.text and json.loads(out.read_text(encoding="utf-8"))["count"] == 1
    body, headers = receiver.received[0]
    assert verify(body, SECRET, headers[SIGNATURE_HEADER])  # the secret came from the environment
    assert json.loads(body)["features"][0]["properties"]["cell_id"] == 1000
    out.unlink()
    with Receiver([200]) as receiver:
        code = run_main(main, ["alerts", "--bundle", str(bundle), "--input", str(source), "--out", str(out),
                               "--webhook", receiver.url])
    assert code == 0 and out.exists() and len(receiver.received) == 1
