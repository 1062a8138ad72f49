"""Reading a real Prometheus endpoint in tests: one sample's value by name and labels."""

from __future__ import annotations

import urllib.request

from prometheus_client.parser import text_string_to_metric_families


class Scrape:
    """One scrape of `url` (or its `text`): samples by name, each a list of (labels, value)."""

    def __init__(self, url: str = "", *, text: str = ""):
        if url:
            with urllib.request.urlopen(url, timeout=10) as response:
                text = response.read().decode()
        self.text = text
        self.samples: dict[str, list[tuple[dict[str, str], float]]] = {}
        for family in text_string_to_metric_families(self.text):
            for sample in family.samples:
                self.samples.setdefault(sample.name, []).append((sample.labels, sample.value))

    def value(self, name: str, **labels: str) -> float:
        """The sum of the samples of `name` whose labels include `labels` (0 when there are none)."""
        return sum(
            value
            for found, value in self.samples.get(name, [])
            if all(found.get(key) == wanted for key, wanted in labels.items())
        )

    def names(self) -> set[str]:
        return set(self.samples)
