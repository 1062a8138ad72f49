"""axe-core (vendored under tests/browser/vendor, test-only) run on the page a test has open."""

from __future__ import annotations

from pathlib import Path

_AXE = (Path(__file__).parent / "vendor" / "axe.min.js").read_text()
SERIOUS = ("serious", "critical")


def serious_findings(page) -> list[str]:
    """Serious or critical axe findings on the page as it is now, one line per node."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(_AXE)  # through the DevTools protocol: the page's CSP stays as strict as ever
    results = page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations")
    return [
        f"{page.url} {violation['id']} ({violation['impact']}): {node['target']} {node.get('failureSummary', '')[:160]}"
        for violation in results
        if violation["impact"] in SERIOUS
        for node in violation["nodes"]
    ]
