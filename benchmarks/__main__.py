"""`make bench`: runs every benchmark suite and prints the figures beside their targets."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN", "postgresql://postgres@127.0.0.1:5432/postgres")
PG_URL = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/imageservice_bench")


def _fresh_sqlite(name: str = "bench") -> str:
    path = ROOT / "var" / "bench" / f"{name}.sqlite3"
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    return f"sqlite:///{path}"


def _fresh_postgres(name: str = "") -> str | None:
    """A new empty database `name` (BENCH_PG_URL's own when not given) on BENCH_PG_URL's server,
    whose URL it returns."""
    name = name or urlsplit(PG_URL).path.lstrip("/")
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name}")
            conn.execute(f"CREATE DATABASE {name}")
    except Exception as error:  # PostgreSQL is optional for a benchmark run
        print(f"PostgreSQL unavailable, skipping its run: {error}", file=sys.stderr)
        return None
    return urlsplit(PG_URL)._replace(path=f"/{name}").geturl()


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


SCALE_SIZES = tuple(int(size) for size in os.environ.get("BENCH_SCALE_SIZES", "100000,1000000").split(","))
SCALE_FAMILIES = 1000
BEFORE_SCALE_SHORT = "0003"  # benchmarks.scale seeds the schema before the scale migrations
# The third run per database: the larger size over this many families (0 skips it).
SCALE_MANY_FAMILIES = int(os.environ.get("BENCH_SCALE_MANY_FAMILIES", "10000"))


def _scale_key(images: int, families: int) -> str:
    return f"{images}/{families}"


def scale_runs() -> dict[str, dict[str, dict]]:
    """`make bench-scale`: benchmarks.scale on each database (SQLite unless BENCH_SCALE_SQLITE=0,
    PostgreSQL unless BENCH_SCALE_PG=0) at 100,000 and at 1,000,000 images over 1,000 families, and
    the families' cases at 1,000,000 images over 10,000 families. Each run seeds a fresh database of
    its own and leaves it behind (var/bench/scale_*.sqlite3, imageservice_scale_*) for EXPLAIN."""
    small, big = SCALE_SIZES
    plan = [(small, SCALE_FAMILIES, "all"), (big, SCALE_FAMILIES, "all")]
    if SCALE_MANY_FAMILIES:
        plan.append((big, SCALE_MANY_FAMILIES, "families"))
    runs: dict[str, dict[str, dict]] = {}
    for database, switch in (("SQLite", "BENCH_SCALE_SQLITE"), ("PostgreSQL", "BENCH_SCALE_PG")):
        if os.environ.get(switch, "1") != "0":
            runs[database] = _scale_database(database, plan)
            # Written after each database: a failure later keeps what was measured.
            (ROOT / "var" / "bench" / "scale.json").write_text(json.dumps(runs))
    return runs


SCALE_ROUNDS = 5  # turns per case and run; each turn SCALE_BATCH calls
SCALE_BATCH = 15
SCALE_SEED_ROUNDS = 5  # turns of SCALE_SEED_BATCH images through the ORM per run
SCALE_SEED_BATCH = 4000


class _ScaleRun:
    """One benchmarks.scale process held open (seeded, migrated, its backend serving), measuring on request."""

    def __init__(self, url: str, **env: str):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.scale"],
            cwd=ROOT,
            env=dict(os.environ, DATABASE_URL=url, PYTHONPATH=str(ROOT), BENCH_SCALE_SERVE="1", **env),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        ready = self._reply()
        self.cases: list[str] = ready["cases"]

    def _reply(self) -> dict:
        assert self.process.stdin is not None and self.process.stdout is not None
        for line in self.process.stdout:
            if line.startswith("{"):
                return json.loads(line)
        raise SystemExit(f"benchmarks.scale exited with code {self.process.wait()}")

    def ask(self, command: dict) -> dict:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        return self._reply()

    def finish(self) -> dict:
        result = self.ask({"quit": True})
        self.process.wait(timeout=60)
        return result

    def stop(self) -> None:
        """Ends the process if it still runs: a closed stdin ends its loop, and it stops its backend."""
        if self.process.poll() is not None:
            return
        assert self.process.stdin is not None
        self.process.stdin.close()
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _scale_database(database: str, plan: list[tuple[int, int, str]]) -> dict[str, dict]:
    """Seeds every run of `plan` on `database` one after another, then measures them in turns
    (case by case, each run in turn, the order reversed every round) so that all of them see the
    same load of a shared machine; the p50 of a case is over every round's calls."""
    held: dict[str, _ScaleRun] = {}
    try:
        for images, families, cases in plan:
            name = f"scale_{images}_{families}"
            url = _fresh_sqlite(name) if database == "SQLite" else _fresh_postgres(f"imageservice_{name}")
            if url is None:
                return {}
            print(
                f"bench-scale: {database}, {images:,} images, {families:,} families",
                file=sys.stderr,
                flush=True,
            )
            held[_scale_key(images, families)] = _ScaleRun(
                url,
                BENCH_SCALE_IMAGES=str(images),
                BENCH_SCALE_FAMILIES=str(families),
                BENCH_SCALE_CASES=cases,
            )
        load_before = os.getloadavg()
        cases = list(dict.fromkeys(case for run in held.values() for case in run.cases))
        samples: dict[str, dict[str, list[float]]] = {key: {} for key in held}
        for turn in range(SCALE_ROUNDS):
            order = list(held) if turn % 2 == 0 else list(reversed(held))
            for case in cases:
                for key in order:
                    if case in held[key].cases:
                        reply = held[key].ask({"measure": case, "count": SCALE_BATCH})
                        samples[key].setdefault(case, []).extend(reply["samples"])
        seeded = dict.fromkeys(held, 0.0)
        inserted = dict.fromkeys(held, 0.0)
        for turn in range(SCALE_SEED_ROUNDS):
            for key in list(held) if turn % 2 == 0 else list(reversed(held)):
                reply = held[key].ask({"seed": SCALE_SEED_BATCH, "folder": f"bench-seed-{turn}"})
                seeded[key] += reply["seconds"]
                # Row numbers past the seeded folder's, so the ids stay unique (and under 10,000,000:
                # the seed writes versions in four digits).
                start = 2 * max(SCALE_SIZES) + turn * SCALE_SEED_BATCH
                command = {"sql_seed": SCALE_SEED_BATCH, "folder": f"bench-sql-{turn}", "start": start}
                inserted[key] += held[key].ask(command)["seconds"]
        load_after = os.getloadavg()
        runs = {}
        for key, run in held.items():
            result = run.finish()
            result["p50"] = {case: statistics.median(values) for case, values in samples[key].items()}
            result["orm_seed_seconds"] = seeded[key]
            result["orm_seed_images"] = SCALE_SEED_ROUNDS * SCALE_SEED_BATCH
            result["sql_insert_seconds"] = inserted[key]
            result["load_measuring"] = [load_before, load_after]
            runs[key] = result
        return runs
    finally:
        for run in held.values():
            run.stop()


def _scale_target(key: str) -> float:
    """The dashboard's targets for its pages (README, Figures); 10 ms for every gRPC call."""
    return 15.0 if key.startswith("dashboard") and key.endswith(" page") else 10.0


def _ms(value: float, target: float) -> str:
    return f"{value:.2f}" + (" ✗" if value >= target else "")


def _rows(low: int | None, high: int | None) -> str:
    """Rows of a page at both sizes; "" for the dashboard's pages (not counted)."""
    if high is None:
        return ""
    return str(high) if low == high else f"{low} → {high}"


def _ratio(value: float) -> str:
    return f"{value:.2f}" + (" ✗" if value > 1.3 else "")


def scale_table(runs: dict[str, dict[str, dict]]) -> None:
    small, big = SCALE_SIZES
    at_small, at_big = _scale_key(small, SCALE_FAMILIES), _scale_key(big, SCALE_FAMILIES)
    many = _scale_key(big, SCALE_MANY_FAMILIES)
    header = [f"p50 (ms), {SCALE_FAMILIES:,} families", "rows"]
    for name in runs:
        header += [f"{name} {big:,}", f"{name} ÷ {small:,}"]
    header.append("target (✗ missed)")
    first = next(iter(runs.values()))[at_big]
    low_rows = next(iter(runs.values()))[at_small]["rows"]
    rows = []
    for key in first["p50"]:
        row = [key, _rows(low_rows.get(key), first["rows"].get(key))]
        target = _scale_target(key)
        for by_run in runs.values():
            high, low = by_run[at_big]["p50"][key], by_run[at_small]["p50"][key]
            row += [_ms(high, target), _ratio(high / low)]
        rows.append((*row, f"< {target:.0f}, ratio ≤ 1.30"))
    _print_table(header, rows)

    if all(many in by_run for by_run in runs.values()):
        header = [f"p50 (ms) at {big:,} images", "rows"]
        for name in runs:
            header += [f"{name} {SCALE_MANY_FAMILIES:,} families", f"{name} {SCALE_FAMILIES:,} families"]
        header.append("target (✗ missed)")
        rows = []
        for key in next(iter(runs.values()))[many]["p50"]:
            row = [key, next(iter(runs.values()))[many]["rows"].get(key, "")]
            target = _scale_target(key)
            for by_run in runs.values():
                row += [_ms(by_run[many]["p50"][key], target), f"{by_run[at_big]['p50'][key]:.2f}"]
            rows.append((*row, f"< {target:.0f}"))
        _print_table(header, rows)

    def per_row(run: dict) -> float:
        return run["seed_seconds"] / run["images"] * 1e6

    def orm_per_row(run: dict) -> float:
        return run["orm_seed_seconds"] / run["orm_seed_images"] * 1e6

    def sql_per_row(run: dict) -> float:
        return run["sql_insert_seconds"] / run["orm_seed_images"] * 1e6

    def each(cell) -> list[str]:
        return [cell(by_run) for by_run in runs.values()]

    setup = [
        (
            f"SQL seed of {small:,} images, schema {BEFORE_SCALE_SHORT} (µs/row)",
            *each(lambda r: f"{per_row(r[at_small]):.1f}"),
            "",
        ),
        (
            f"SQL seed of {big:,} images, schema {BEFORE_SCALE_SHORT} (µs/row)",
            *each(lambda r: f"{per_row(r[at_big]):.1f}"),
            "",
        ),
        (
            f"SQL seed per row, {big:,} ÷ {small:,}",
            *each(lambda r: f"{per_row(r[at_big]) / per_row(r[at_small]):.2f}"),
            "≤ 1.00 (±0.10 is run-to-run noise here)",
        ),
        (f"SQL seed of {big:,} images (s)", *each(lambda r: f"{r[at_big]['seed_seconds']:.1f}"), ""),
        (
            f"ORM bulk_create of {first['orm_seed_images']:,} more, into {small:,} (µs/row)",
            *each(lambda r: f"{orm_per_row(r[at_small]):.1f}"),
            "",
        ),
        (
            f"ORM bulk_create of {first['orm_seed_images']:,} more, into {big:,} (µs/row)",
            *each(lambda r: f"{orm_per_row(r[at_big]):.1f}"),
            "",
        ),
        (
            f"ORM bulk_create per row, {big:,} ÷ {small:,}",
            *each(lambda r: f"{orm_per_row(r[at_big]) / orm_per_row(r[at_small]):.2f}"),
            "≤ 1.00 (±0.10 is run-to-run noise here)",
        ),
        (
            f"SQL insert of {first['orm_seed_images']:,} more, today's schema, into {small:,} (µs/row)",
            *each(lambda r: f"{sql_per_row(r[at_small]):.1f}"),
            "",
        ),
        (
            f"SQL insert of {first['orm_seed_images']:,} more, today's schema, into {big:,} (µs/row)",
            *each(lambda r: f"{sql_per_row(r[at_big]):.1f}"),
            "",
        ),
        (
            f"SQL insert per row, {big:,} ÷ {small:,}",
            *each(lambda r: f"{sql_per_row(r[at_big]) / sql_per_row(r[at_small]):.2f}"),
            "≤ 1.00 (±0.10 is run-to-run noise here)",
        ),
    ]
    if all(many in by_run for by_run in runs.values()):
        setup.append(
            (
                f"SQL seed of {big:,} images, {SCALE_MANY_FAMILIES:,} families (µs/row)",
                *each(lambda r: f"{per_row(r[many]):.1f}"),
                "",
            )
        )
    for migration in first["migrations"]:
        setup.append(
            (
                f"migrate {migration} (s)",
                *each(lambda r, m=migration: f"{r[at_big]['migrations'][m]:.1f}"),
                "",
            )
        )
        if all(many in by_run for by_run in runs.values()):
            setup.append(
                (
                    f"  … over {SCALE_MANY_FAMILIES:,} families (s)",
                    *each(lambda r, m=migration: f"{r[many]['migrations'][m]:.1f}"),
                    "",
                )
            )
    for key in next(iter(runs.values())):
        images, families = (int(part) for part in key.split("/"))
        setup.append(
            (
                f"load average (1 min) as the {images:,} / {families:,} run began",
                *each(lambda r, k=key: f"{r[k]['load_before'][0]:.2f}" if k in r else ""),
                "",
            )
        )
    setup.append(
        (
            "load average (1 min) before / after measuring",
            *each(lambda r: "{:.2f} / {:.2f}".format(*(load[0] for load in r[at_big]["load_measuring"]))),
            "",
        )
    )
    _print_table([f"at {big:,} images", *runs, "target"], setup)


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
        scale_table(scale_runs())
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
