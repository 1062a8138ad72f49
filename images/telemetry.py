"""Traces and log lines for both processes: the OpenTelemetry tracer (none unless configured),
W3C trace context in gRPC metadata, the per-call log context, JSON log lines and secret redaction.

Tracing costs nothing when OTEL_EXPORTER_OTLP_ENDPOINT is unset: no SDK tracer provider is
installed, `tracer()` is None, and every caller skips its span code on that one check.
"""

from __future__ import annotations

import contextvars
import json
import logging
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from opentelemetry import trace
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

# Histogram buckets of both processes' latencies: a cached Get takes ~0.3 ms, a slow List seconds.
LATENCY_BUCKETS = (
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
)  # fmt: skip

_propagator = TraceContextTextMapPropagator()
_tracer_provider: Any = None  # an SDK TracerProvider once tracing is on
_tracers: dict[str, trace.Tracer] = {}


def setup_tracing(service_name: str) -> bool:
    """Installs the SDK with the OTLP exporter when OTEL_EXPORTER_OTLP_ENDPOINT is set (the
    exporter reads its standard OTEL_* settings); True when tracing is on."""
    if _tracer_provider is not None:
        return True
    if not os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        return False
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    use_tracer_provider(provider)
    return True


def use_tracer_provider(provider: Any) -> None:
    """Traces go to `provider` from now on (None: tracing off). Tests pass an in-memory one."""
    global _tracer_provider
    _tracer_provider = provider
    _tracers.clear()


def enabled() -> bool:
    return _tracer_provider is not None


def tracer(name: str) -> trace.Tracer | None:
    """The tracer for `name`, or None when tracing is off (callers then do nothing at all)."""
    if _tracer_provider is None:
        return None
    found = _tracers.get(name)
    if found is None:
        found = _tracers[name] = _tracer_provider.get_tracer(name)
    return found


def inject(metadata: list[tuple[str, str]]) -> None:
    """Adds the current span's `traceparent` (and `tracestate`) to outgoing gRPC metadata."""
    carrier: dict[str, str] = {}
    _propagator.inject(carrier)
    metadata.extend(carrier.items())


def extract(metadata: dict[str, str]) -> Any:
    """The OpenTelemetry context a caller's `traceparent` metadata carries (empty without one)."""
    return _propagator.extract(metadata)


def traceparent() -> str:
    """The current span as a `traceparent` value ("" without one), to link later work to it."""
    carrier: dict[str, str] = {}
    _propagator.inject(carrier)
    return carrier.get("traceparent", "")


def link_to(parent: str) -> list[trace.Link]:
    """A link to the span a stored `traceparent` names (none when it is empty or malformed)."""
    if not parent:
        return []
    context = trace.get_current_span(_propagator.extract({"traceparent": parent})).get_span_context()
    return [trace.Link(context)] if context.is_valid else []


# --- Log context and log lines -----------------------------------------------------------------

_log_context: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "imageservice_log", default=None
)


@contextmanager
def log_context(**fields: Any) -> Iterator[None]:
    """Fields (request_id, ...) every log line written inside the block carries."""
    token = _log_context.set({**(_log_context.get() or {}), **fields})
    try:
        yield
    finally:
        _log_context.reset(token)


# A bearer token in a header or a message, our own API tokens anywhere, and the query string of
# any URL (pre-signed object-store URLs carry their signature and credential there).
_SECRETS = (
    (re.compile(r"(?i)\b(bearer)\s+[^\s,;\"']+"), r"\1 <redacted>"),
    (re.compile(r"\bism_[A-Za-z0-9_-]{8,}"), "<redacted-token>"),
    (re.compile(r"(\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s?#\"']*)\?[^\s#\"']*"), r"\1?<redacted>"),
)


def redact(text: str) -> str:
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


class RedactSecrets(logging.Filter):
    """Rewrites each record's message (arguments merged in) without tokens or query strings."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return True


# The fields of a JSON line beyond timestamp, level, logger and message, in order.
JSON_FIELDS = ("request_id", "trace_id", "method", "code", "ms", "caller")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: timestamp, level, logger, message, then the JSON_FIELDS that are
    known (from the log context, the record's `extra`, the current span) and any exception."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        known = {
            **(_log_context.get() or {}),
            **{k: getattr(record, k) for k in JSON_FIELDS if hasattr(record, k)},
        }
        if "trace_id" not in known and _tracer_provider is not None:
            span = trace.get_current_span().get_span_context()
            if span.is_valid:
                known["trace_id"] = format(span.trace_id, "032x")
        line.update((name, known[name]) for name in JSON_FIELDS if known.get(name) not in (None, ""))
        if record.exc_info:
            line["exception"] = record.exc_text or redact(self.formatException(record.exc_info))
        return json.dumps(line, default=str)


def logging_config(format_name: str, level: str) -> dict[str, Any]:
    """The LOGGING dict of both processes: a readable line (default) or JSON, secrets redacted."""
    formatters = {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "images.telemetry.JsonFormatter"},
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": formatters,
        "filters": {"redact": {"()": "images.telemetry.RedactSecrets"}},
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "json" if format_name == "json" else "plain",
                "filters": ["redact"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
    }
