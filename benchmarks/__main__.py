"""`make bench`: runs every benchmark suite and prints the figures beside their targets."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
PG_URL = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/imageservice_bench")


def _fresh_sqlite() -> str:
    path = ROOT / "var" / "bench" / "bench.sqlite3"
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    return f"sqlite:///{path}"


def _fresh_postgres() -> str | None:
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute("DROP DATABASE IF EXISTS imageservice_bench")
            conn.execute("CREATE DATABASE imageservice_bench")
    except Exception as error:  # PostgreSQL is optional for a benchmark run
        print(f"PostgreSQL unavailable, skipping its run: {error}", file=sys.stderr)
        return None
    return PG_URL


def run_suite(module: str, database_url: str, **extra_env: str) -> dict:
    """Runs benchmarks.<module> in its own process (its own Django settings) and reads its JSON line."""
    env = dict(os.environ, DATABASE_URL=database_url, PYTHONPATH=str(ROOT), **extra_env)
    output = subprocess.run(
        [sys.executable, "-m", f"benchmarks.{module}"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if output.returncode != 0:
        sys.stderr.write(output.stderr)
        raise SystemExit(f"benchmarks.{module} failed")
    return json.loads(output.stdout.strip().splitlines()[-1])


def backend_table(runs: dict[str, dict]) -> None:
    names = list(runs)
    rows = []

    def add(metric, values, target):
        rows.append((metric, *values, target))

    add("seed 100,000 images (s)", [f"{r['seed_seconds']:.1f}" for r in runs.values()], "< 60")
    for key, label in (("floor", "floor (empty handler)"), ("get", "Get"), ("latest", "GetLatestByFamily")):
        add(
            f"{label} p50 (ms)",
            [f"{r[key]['p50']:.3f}" for r in runs.values()],
            "≤ 2× floor" if key != "floor" else "",
        )
        add(
            f"{label} 8 threads (calls/s)",
            [f"{r[key]['rps8']:.0f}" for r in runs.values()],
            "≥ ½ floor" if key != "floor" else "",
        )
    for key in ("get", "latest"):
        add(
            f"{key} p50 / floor p50",
            [f"{r[key]['p50'] / r['floor']['p50']:.2f}" for r in runs.values()],
            "≤ 2.00",
        )
        add(
            f"{key} rps / floor rps",
            [f"{r[key]['rps8'] / r['floor']['rps8']:.2f}" for r in runs.values()],
            "≥ 0.50",
        )
    add("List(100) first page p50 (ms)", [f"{r['list100_first']['p50']:.2f}" for r in runs.values()], "< 5")
    add("List(100) page 900 p50 (ms)", [f"{r['list100_page900']['p50']:.2f}" for r in runs.values()], "")
    add(
        "page 900 / first page",
        [f"{r['list100_page900']['p50'] / r['list100_first']['p50']:.2f}" for r in runs.values()],
        "≤ 1.20",
    )
    add("List(1000) p50 (ms)", [f"{r['list1000']['p50']:.2f}" for r in runs.values()], "< 30")
    # The operator's queries (benchmarks/backend.py ORDER_CASES, FILTER_CASES): each a List of 100.
    first = next(iter(runs.values()))
    for key in (k for k in first if k.startswith(("order_", "filter_"))):
        add(
            f"List(100) {key.replace('_', ' ')} p50 (ms)",
            [f"{r[key]['p50']:.2f}" if key in r else "n/a" for r in runs.values()],
            "< 10",
        )
    for key, label in (("floor", "floor"), ("get", "Get"), ("list100", "List(100)")):
        add(
            f"{label} p50 metrics off / on (ms)",
            [f"{r['metrics']['off'][key]:.3f} / {r['metrics']['on'][key]:.3f}" for r in runs.values()],
            "",
        )
        add(
            f"{label} cost of metrics",
            [
                f"{(r['metrics']['on'][key] / r['metrics']['off'][key] - 1) * 100:+.1f}%"
                for r in runs.values()
            ],
            "< 10%",
        )
    add("Create→READY p50 (ms)", [f"{r['create']['p50']:.2f}" for r in runs.values()], "< 50")
    add("Create→READY sustained (ops/s)", [f"{r['create']['ops8']:.0f}" for r in runs.values()], "≥ 100")
    if all("recovery" in r for r in runs.values()):
        add(
            "recovery of 1,500 operations (s)",
            [f"{r['recovery']['seconds']:.2f} ({r['recovery']['recovered']} ops)" for r in runs.values()],
            "< 2",
        )
        add(
            "  … restart to SERVING (s)",
            [f"{r['recovery']['to_serving_seconds']:.2f}" for r in runs.values()],
            "",
        )
    _print_table(["backend metric", *names, "target"], rows)


def imports_table(result: dict) -> None:
    mb = 1024 * 1024
    ratio = result["import_bytes_per_s"] / result["plain_bytes_per_s"]
    idle, busy = result["get_idle"]["p99"], result["get_during_imports"]["p99"]
    rows = [
        ("file size (MiB)", f"{result['file_bytes'] / mb:.0f}", ""),
        ("plain download + sha256 + disk (MiB/s)", f"{result['plain_bytes_per_s'] / mb:.0f}", ""),
        ("import → READY (MiB/s)", f"{result['import_bytes_per_s'] / mb:.0f}", ""),
        ("import / plain", f"{ratio:.2f}", "≥ 0.60"),
        ("server peak RSS growth (MiB)", f"{result['rss_growth_bytes'] / mb:.1f}", "< 64"),
        (
            "  … with the import child process (MiB)",
            f"{result['rss_growth_with_import_process_bytes'] / mb:.1f}",
            "< 64",
        ),
        ("Get p99 idle (ms)", f"{idle:.2f}", ""),
        ("Get p99 during 2 imports (ms)", f"{busy:.2f}", ""),
        ("busy / idle p99", f"{busy / idle:.2f}", "≤ 3.00"),
        ("imports still running when measured", str(result["imports_still_running_after_measuring"]), "2"),
    ]
    _print_table(["import metric", "SQLite", "target"], rows)


def dashboard_table(result: dict) -> None:
    share = result["fragment_bytes"] / result["full_bytes"]
    pages = result["gunicorn_pages_per_s"]
    rows = [
        ("rows on the page", str(result["rows"]), "50"),
        ("full page server time p50 (ms)", f"{result['full']['p50']:.2f}", "< 15"),
        ("fragment server time p50 (ms)", f"{result['fragment']['p50']:.2f}", "< 10"),
        ("gunicorn, 2 workers, concurrency 8 (pages/s)", "n/a" if pages is None else f"{pages:.0f}", "≥ 150"),
        ("page bytes", str(result["full_bytes"]), ""),
        ("fragment bytes", str(result["fragment_bytes"]), ""),
        ("fragment / page bytes", f"{share:.2f}", "≤ 0.40"),
    ]
    transfer = result.get("transfer")
    if transfer:
        rows += [
            (
                f"list page, first visit: page + {transfer['assets']} static files (bytes)",
                str(transfer["first"]),
                "",
            ),
            (
                f"list page, repeat visit ({transfer['cached']} static files cached) (bytes)",
                str(transfer["repeat"]),
                "",
            ),
        ]
    export = result.get("export")
    if export:
        rows += [
            (f"CSV export of {export['rows']} rows (s)", f"{export['seconds']:.1f}", ""),
            ("export: worker peak RSS growth (MiB)", f"{export['peak_rss_growth_mib']:.1f}", "< 64"),
        ]
    _print_table(["dashboard metric (100,000 images)", "SQLite", "target"], rows)


SCALE_SIZES = (100_000, int(os.environ.get("BENCH_SCALE_IMAGES", "1000000")))


def scale_runs() -> dict[str, dict[int, dict]]:
    """`make bench-scale`: benchmarks.scale at 100,000 and at 1,000,000 images on each database
    (PostgreSQL unless BENCH_SCALE_PG=0), each on a fresh database."""
    runs: dict[str, dict[int, dict]] = {"SQLite": {}}
    for size in SCALE_SIZES:
        runs["SQLite"][size] = run_suite("scale", _fresh_sqlite(), BENCH_SCALE_IMAGES=str(size))
    if os.environ.get("BENCH_SCALE_PG", "1") != "0":
        for size in SCALE_SIZES:
            pg = _fresh_postgres()
            if pg is None:
                break
            runs.setdefault("PostgreSQL", {})[size] = run_suite("scale", pg, BENCH_SCALE_IMAGES=str(size))
    return runs


def scale_table(runs: dict[str, dict[int, dict]]) -> None:
    small, big = SCALE_SIZES
    header = ["List(100) p50 (ms)"]
    for name in runs:
        header += [f"{name} {big:,}", f"{name} ÷ {small:,}"]
    header.append("target")
    first = next(iter(runs.values()))[big]
    rows = []
    for key in first["p50"]:
        row = [key]
        for by_size in runs.values():
            at_big, at_small = by_size[big]["p50"][key], by_size[small]["p50"][key]
            row += [f"{at_big:.2f}", f"{at_big / at_small:.2f}"]
        rows.append((*row, "< 10, ratio ≤ 1.30"))
    _print_table(header, rows)
    setup = [("seed (s)", *[f"{by_size[big]['seed_seconds']:.1f}" for by_size in runs.values()])]
    for migration in first["migrations"]:
        setup.append(
            (
                f"migrate {migration} (s)",
                *[f"{by_size[big]['migrations'][migration]:.1f}" for by_size in runs.values()],
            )
        )
    _print_table([f"at {big:,} images", *runs], setup)


def _print_table(header, rows) -> None:
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    line = " | ".join(str(cell).ljust(width) for cell, width in zip(header, widths, strict=False))
    print(line)
    print("-+-".join("-" * width for width in widths))
    for row in rows:
        print(" | ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=False)))
    print()


def main() -> None:
    suites = sys.argv[1:] or ["backend", "imports", "dashboard"]
    if "scale" in suites:  # not in the default run: it seeds a million images per database
        runs = scale_runs()
        (ROOT / "var" / "bench" / "scale.json").write_text(json.dumps(runs))
        scale_table(runs)
    if "backend" in suites:
        runs = {"SQLite": run_suite("backend", _fresh_sqlite())}
        pg = _fresh_postgres()
        if pg:
            runs["PostgreSQL"] = run_suite("backend", pg)
        backend_table(runs)
    if "dashboard" in suites:
        dashboard_table(run_suite("dashboard", _fresh_sqlite()))
    if "imports" in suites:
        imports_table(run_suite("imports", _fresh_sqlite()))


if __name__ == "__main__":
    main()
