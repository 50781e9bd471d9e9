"""A prediction sink for the server tests: appends every event as a JSON line to the file named by
GEIH_TEST_SINK_FILE, and a final {"closed": true} line when the service shuts down."""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path

from geih.serving.events import PredictionEvent


class JsonlSink:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def submit(self, event: PredictionEvent) -> None:
        with open(self.path, "a", encoding="utf-8") as out:
            out.write(json.dumps({**asdict(event), "pid": os.getpid()}) + "\n")

    def close(self) -> None:
        with open(self.path, "a", encoding="utf-8") as out:
            out.write(json.dumps({"closed": True, "pid": os.getpid()}) + "\n")


def jsonl_sink() -> JsonlSink:
    return JsonlSink(Path(os.environ["GEIH_TEST_SINK_FILE"]))
