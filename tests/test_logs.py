"""Log lines: IMAGESERVICE_LOG_FORMAT=json gives one JSON object per line in both processes, and no
token or pre-signed query string appears in either format."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from images import telemetry
from images.api.gen.yandex.cloud.compute.v1 import image_service_pb2 as isv

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "ism_s3cr3tT0kenValue_abcdefghijklmnop"
SIGNED = (
    "https://storage.yandexcloud.net/bucket/disk.qcow2?X-Amz-Signature=SIGSECRET&X-Amz-Credential=KEYSECRET"
)
SECRETS = (TOKEN, "s3cr3tT0ken", "SIGSECRET", "KEYSECRET")

EMIT = f"""
import logging, django
django.setup()
log = logging.getLogger("images.check")
log.info("calling with authorization=Bearer %s for %s", {TOKEN!r}, {SIGNED!r})
try:
    raise ValueError({SIGNED!r})
except ValueError:
    log.exception("failed on %s", {SIGNED!r})
"""


@pytest.mark.parametrize("settings_module", ["images.settings", "dashboard.settings"])
@pytest.mark.parametrize("log_format", ["json", "plain"])
def test_each_process_logs_in_its_format_without_secrets(settings_module, log_format, tmp_path):
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE=settings_module,
        IMAGESERVICE_LOG_FORMAT=log_format,
        IMAGESERVICE_VAR_DIR=str(tmp_path),
    )
    done = subprocess.run(
        [sys.executable, "-c", EMIT], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    for secret in SECRETS:
        assert secret not in done.stderr
    assert "storage.yandexcloud.net/bucket/disk.qcow2?<redacted>" in done.stderr
    if log_format == "plain":
        assert " INFO images.check calling with authorization=Bearer <redacted> for " in done.stderr
        return
    lines = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    first, failed = lines[0], lines[1]
    assert set(first) == {"timestamp", "level", "logger", "message"}
    assert (first["level"], first["logger"]) == ("INFO", "images.check")
    assert first["message"].startswith("calling with authorization=Bearer <redacted> for https://")
    assert failed["level"] == "ERROR" and "ValueError" in failed["exception"]
    # Every line of the output is one JSON object (the traceback lives inside it).
    assert len(lines) == len(done.stderr.splitlines()) == 2


@pytest.fixture
def json_lines():
    """The root logger's records as the JSON handler of the settings writes them."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(telemetry.JsonFormatter())
    handler.addFilter(telemetry.RedactSecrets())
    root = logging.getLogger()
    root.addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)


def test_the_rpc_line_carries_method_code_ms_request_id_and_caller_but_no_token(backend, json_lines):
    client = backend.editor
    client.call(client.images.List, isv.ListImagesRequest(folder_id="folder-logs"), x_request_id="req-logs-1")
    [line] = [line for line in json_lines() if line["logger"] == "images.rpc"]
    assert line["method"] == "/yandex.cloud.compute.v1.ImageService/List"
    assert (line["code"], line["request_id"]) == ("OK", "req-logs-1")
    assert line["caller"].startswith("editor-") and line["ms"] > 0
    assert backend.editor_token not in json.dumps(json_lines())
