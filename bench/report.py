"""Write bench/RESULTS.md and bench/results.png from the JSON the runs left in bench/results/.

    python -m bench.report [--results bench/results] [--markdown bench/RESULTS.md]

Each database's run (``bench.run``) and API run (``bench.api_load``) is one JSON file;
every ratio here is taken between numbers of the same file, i.e. the same run.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
CONTENDERS = ("config_versions", "reversion", "simple_history", "floor")
LABELS = {
    "config_versions": "config_versions",
    "reversion": "django-reversion",
    "simple_history": "django-simple-history",
    "floor": "raw SQL floor",
}
ORDER = ("W1", "W2", "W2L", "W3", "W3-short", "W4", "W4-large", "W5", "W5-large")
DATABASES = ("sqlite", "postgresql")
NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


def load(directory: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    runs: dict[str, Any] = {}
    api: dict[str, Any] = {}
    for path in sorted(directory.glob("*.json")):
        data = json.loads(path.read_text())
        vendor = data["environment"]["database"]
        (api if path.stem.startswith("api-") else runs)[vendor] = data
    return runs, api


def median(result: dict[str, Any], key: str) -> float | None:
    entry = result["contenders"].get(key)
    return None if entry is None else float(entry["median"])


def ratio(result: dict[str, Any] | None, key: str, base: str = "floor") -> float | None:
    if result is None:
        return None
    top, bottom = median(result, key), median(result, base)
    return None if top is None or not bottom else top / bottom


def fmt_time(value: float) -> str:
    return f"{value:.3f}" if value < 1 else f"{value:.2f}" if value < 100 else f"{value:.0f}"


def fmt_ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}x"


# Targets ------------------------------------------------------------------------------


@dataclass
class Target:
    name: str
    limit: str
    measure: Callable[[dict[str, Any]], tuple[float | None, bool | None]]
    # A few words shown after the verdict (W7: errors, p99 in ms).
    detail: Callable[[dict[str, Any]], str] | None = None


def _ratio_at_most(key: str, limit: float) -> Callable[[dict[str, Any]], tuple[Any, Any]]:
    def measure(results: dict[str, Any]) -> tuple[float | None, bool | None]:
        value = ratio(results.get(key), "config_versions")
        return value, None if value is None else value <= limit

    return measure


def _one_query_and(limit: float) -> Callable[[dict[str, Any]], tuple[Any, Any]]:
    def measure(results: dict[str, Any]) -> tuple[float | None, bool | None]:
        result = results.get("W2")
        value = ratio(result, "config_versions")
        if result is None or value is None:
            return None, None
        queries = result["contenders"]["config_versions"]["queries"]
        return value, value <= limit and queries == 1

    return measure


def _label_read(limit: float) -> Callable[[dict[str, Any]], tuple[Any, Any]]:
    """W2L: the read through a label against the plain read of the current config, both
    timed in the same samples; each must be one query."""

    def measure(results: dict[str, Any]) -> tuple[float | None, bool | None]:
        result = results.get("W2L")
        value = ratio(result, "config_versions", base="current")
        if result is None or value is None:
            return None, None
        queries = {result["contenders"][k]["queries"] for k in ("config_versions", "current")}
        return value, value <= limit and queries == {1}

    return measure


def _peers_slower(results: dict[str, Any]) -> tuple[float | None, bool | None]:
    result = results.get("W1")
    if result is None:
        return None, None
    ours = median(result, "config_versions")
    peers = [median(result, k) for k in ("reversion", "simple_history")]
    if ours is None or None in peers:
        return None, None
    fastest = min(p for p in peers if p is not None)
    return fastest / ours, fastest / ours >= 2


def _constant(long_key: str, short_key: str, limit: float) -> Callable[..., tuple[Any, Any]]:
    def measure(results: dict[str, Any]) -> tuple[float | None, bool | None]:
        long, short = results.get(long_key), results.get(short_key)
        if long is None or short is None:
            return None, None
        top, bottom = median(long, "config_versions"), median(short, "config_versions")
        if top is None or not bottom:
            return None, None
        return top / bottom, top / bottom <= limit

    return measure


def _storage(key: str) -> Callable[[dict[str, Any]], tuple[Any, Any]]:
    def measure(results: dict[str, Any]) -> tuple[float | None, bool | None]:
        result = results.get(key)
        value = ratio(result, "config_versions")
        if result is None or value is None:
            return None, None
        # No bloat: no dead rows (PostgreSQL), and as written no bigger than the floor as
        # written (free-space maps and page fill make "as written" a little larger than
        # "after VACUUM FULL" for the floor too).
        ours, floor = result["contenders"]["config_versions"], result["contenders"]["floor"]
        no_bloat = (ours.get("dead_rows") or 0) == 0
        no_bloat = no_bloat and ours["as_written"] <= floor["as_written"] * 1.05
        return value, value <= 1.05 and no_bloat

    return measure


def _contended_run(results: dict[str, Any]) -> dict[str, Any] | None:
    """W7's run with many writers, or None."""
    result = results.get("W7")
    if result is None:
        return None
    run: dict[str, Any] | None = result["runs"].get(f"{result['writers']} writers")
    return run


def _contended_throughput(results: dict[str, Any]) -> tuple[float | None, bool | None]:
    result = results.get("W7")
    if result is None:
        return None, None
    ratio_: float = result["ratio"]
    return ratio_, ratio_ >= 0.5 and result["errors"] == 0


def _fair_share_ms(results: dict[str, Any]) -> float | None:
    """The time every writer takes to write once at the measured rate: what a writer
    waits in a first-come, first-served queue of all the others."""
    run = _contended_run(results)
    if run is None or not run["writes_per_s"]:
        return None
    return float(run["threads"] / run["writes_per_s"] * 1000)


def _contended_p99(results: dict[str, Any]) -> tuple[float | None, bool | None]:
    run, share = _contended_run(results), _fair_share_ms(results)
    if run is None or share is None or run["p99_ms"] is None:
        return None, None
    value = float(run["p99_ms"]) / share
    return value, value <= 2


def _errors_detail(results: dict[str, Any]) -> str:
    result = results.get("W7")
    return "" if result is None else f"{result['errors']} errors"


def _p99_detail(results: dict[str, Any]) -> str:
    run, share = _contended_run(results), _fair_share_ms(results)
    if run is None or share is None or run["p99_ms"] is None:
        return ""
    return f"p99 {fmt_time(run['p99_ms'])} ms, share {fmt_time(share)} ms"


TARGETS = [
    Target("W1 update", "<= 1.3x floor", _ratio_at_most("W1", 1.3)),
    Target("W1 fastest peer / ours", ">= 2x", _peers_slower),
    Target("W2 read current", "1 query, <= 1.15x", _one_query_and(1.15)),
    Target("W2L read ?label=production / read current", "1 query, <= 1.1x", _label_read(1.1)),
    Target("W3 newest 50 of 10,000", "<= 1.15x", _ratio_at_most("W3", 1.15)),
    Target("W3 10,000 / 100 versions", "<= 1.2x", _constant("W3", "W3-short", 1.2)),
    Target("W4 rollback, 5 KB", "<= 1.5x", _ratio_at_most("W4", 1.5)),
    Target("W4 rollback, 200 KB", "<= 1.5x", _ratio_at_most("W4-large", 1.5)),
    Target("W5 bytes/version, 5 KB", "<= 1.05x, no bloat", _storage("W5")),
    Target("W5 bytes/version, 200 KB", "<= 1.05x, no bloat", _storage("W5-large")),
    Target(
        "W6 history page 10,000 / 100", "<= 1.2x", _constant("W6-history", "W6-history-short", 1.2)
    ),
    Target("W6 diff page 10,000 / 100", "<= 1.2x", _constant("W6-diff", "W6-diff-short", 1.2)),
    Target(
        "W7 16 writers, writes/s / 1 writer",
        ">= 0.5x, 0 errors",
        _contended_throughput,
        _errors_detail,
    ),
    Target("W7 16 writers, p99 / fair share", "<= 2x", _contended_p99, _p99_detail),
]


def verdict(ok: bool | None) -> str:
    return "not measured" if ok is None else "holds" if ok else "**missed**"


# Markdown -----------------------------------------------------------------------------


def environment_lines(runs: dict[str, Any], api: dict[str, Any]) -> list[str]:
    any_run = next(iter(runs.values()), None) or next(iter(api.values()), None)
    if any_run is None:
        return ["No results yet: run `make bench`."]
    env = any_run["environment"]
    packages = ", ".join(f"{k} {v}" for k, v in env["packages"].items())
    servers = ", ".join(
        sorted({r["environment"]["server"] for r in [*runs.values(), *api.values()]})
    )
    lines = [
        f"- Machine: {env['cpu']}, {env['cores']} cores, {env['memory']} RAM, {env['platform']}",
        f"- Python {env['python']}; {packages}",
        f"- Databases: {servers}",
    ]
    for vendor, data in runs.items():
        quick = " (QUICK smoke-test sizes: not a measurement)" if data.get("quick") else ""
        load = data["environment"].get("load_average", ["?"])[0]
        end = data.get("load_average_end", ["?"])[0]
        lines.append(
            f"- {NAMES.get(vendor, vendor)} run: {data['seconds']:.0f} s, load average "
            f"{load} at the start and {end} at the end{quick}"
        )
    return lines


def targets_table(runs: dict[str, Any], api: dict[str, Any]) -> list[str]:
    present = [v for v in DATABASES if v in runs]
    header = "| target | limit | " + " | ".join(NAMES[v] for v in present) + " |"
    lines = [header, "|---|---|" + "---|" * len(present)]
    for target in TARGETS:
        cells = []
        for vendor in present:
            results = runs[vendor]["results"]
            value, ok = target.measure(results)
            detail = target.detail(results) if target.detail and value is not None else ""
            cell = "n/a" if value is None else f"{value:.2f}x {verdict(ok)}"
            cells.append(f"{cell} ({detail})" if detail else cell)
        lines.append(f"| {target.name} | {target.limit} | " + " | ".join(cells) + " |")
    for name, limit, check in (
        ("API GET / bare GET (req/s)", ">= 0.8x", _api_get("bare GET")),
        ("API GET / bare GET + token auth (req/s)", ">= 0.8x", _api_get("bare GET + token auth")),
        ("API 304 / API 200 (req/s)", ">= 1x", _api_304),
        ("API GET ?label=production / API GET (req/s)", ">= 0.9x", _api_label),
    ):
        cells = []
        for vendor in present:
            value, ok = check(api.get(vendor))
            cells.append("n/a" if value is None else f"{value:.2f}x {verdict(ok)}")
        lines.append(f"| {name} | {limit} | " + " | ".join(cells) + " |")
    return lines


def _rps(data: dict[str, Any] | None, name: str) -> float | None:
    if data is None or name not in data["results"]:
        return None
    return float(data["results"][name]["rps"])


def _api_get(floor: str) -> Callable[[dict[str, Any] | None], tuple[float | None, bool | None]]:
    def check(data: dict[str, Any] | None) -> tuple[float | None, bool | None]:
        ours, bare = _rps(data, "API GET"), _rps(data, floor)
        if ours is None or not bare:
            return None, None
        return ours / bare, ours / bare >= 0.8

    return check


def _api_304(data: dict[str, Any] | None) -> tuple[float | None, bool | None]:
    cached, full = _rps(data, "API GET, If-None-Match (304)"), _rps(data, "API GET")
    if cached is None or not full:
        return None, None
    return cached / full, cached >= full


def _api_label(data: dict[str, Any] | None) -> tuple[float | None, bool | None]:
    by_label, plain = _rps(data, LABEL_GET), _rps(data, "API GET")
    if by_label is None or not plain:
        return None, None
    return by_label / plain, by_label / plain >= 0.9


LABEL_GET = "API GET ?label=production"


def label_lines(data: dict[str, Any]) -> list[str]:
    """W2L beside its own reference: the plain read of the current config."""
    result = data["results"].get("W2L")
    if result is None or "current" not in result["contenders"]:
        return []
    ours, current = result["contenders"]["config_versions"], result["contenders"]["current"]
    return [
        f"W2L: {result['note']}. Through the label {fmt_time(ours['median'])} ms "
        f"({ours['queries']:g} q), the current config {fmt_time(current['median'])} ms "
        f"({current['queries']:g} q): {fmt_ratio(ratio(result, 'config_versions', 'current'))}; "
        f"the current config {fmt_ratio(ratio(result, 'current'))} the floor. The peers "
        "have no labels.",
        "",
    ]


def workload_table(data: dict[str, Any]) -> list[str]:
    results = data["results"]
    header = "| workload | unit | " + " | ".join(LABELS[c] for c in CONTENDERS) + " |"
    lines = [header, "|---|---|" + "---|" * len(CONTENDERS)]
    for key in ORDER:
        result = results.get(key)
        if result is None:
            continue
        cells = []
        for contender in CONTENDERS:
            entry = result["contenders"].get(contender)
            if entry is None:
                cells.append("")
                continue
            queries = entry.get("queries")
            q = "" if queries is None else f", {queries:g} q"
            value = entry["median"]
            shown = f"{value:,.0f}" if "bytes" in result["unit"] else fmt_time(value)
            cells.append(f"{shown} ({fmt_ratio(ratio(result, contender))}{q})")
        lines.append(f"| {result['title']} | {result['unit']} | " + " | ".join(cells) + " |")
    return lines


def storage_lines(data: dict[str, Any]) -> list[str]:
    lines = []
    for key in ("W5", "W5-large"):
        result = data["results"].get(key)
        if result is None:
            continue
        lines += [
            f"{result['title']}: {result['note']}.",
            "",
            "| contender | as written | after vacuum | dead rows | tables |",
            "|---|---|---|---|---|",
        ]
        for contender in CONTENDERS:
            entry = result["contenders"].get(contender)
            if entry is None:
                continue
            dead = "n/a" if entry["dead_rows"] is None else str(entry["dead_rows"])
            lines.append(
                f"| {LABELS[contender]} | {entry['as_written']:,.0f} | {entry['median']:,.0f} "
                f"| {dead} | {', '.join(entry['tables'])} |"
            )
        lines.append("")
    return lines


def admin_lines(data: dict[str, Any]) -> list[str]:
    results = data["results"]
    lines = [
        "| page | contender | short history | long history | long / short | queries (long) |",
        "|---|---|---|---|---|---|",
    ]
    found = False
    for page in ("history", "diff"):
        long, short = results.get(f"W6-{page}"), results.get(f"W6-{page}-short")
        if long is None or short is None:
            continue
        found = True
        for contender in CONTENDERS:
            a, b = median(short, contender), median(long, contender)
            if a is None or b is None:
                continue
            queries = long["contenders"][contender]["queries"]
            lines.append(
                f"| {page} | {LABELS[contender]} | {fmt_time(a)} ms | {fmt_time(b)} ms "
                f"| {b / a:.2f}x | {queries:g} |"
            )
    if found:
        titles = [results[k]["title"] for k in ("W6-history-short", "W6-history") if k in results]
        lines.insert(0, f"Histories: {' and '.join(titles)}.\n")
    return lines if found else []


def contended_lines(data: dict[str, Any]) -> list[str]:
    result = data["results"].get("W7")
    if result is None:
        return []
    lines = [
        f"{result['title']}: {result['note']}. Each writer has its own connection and "
        "its own `BotConfig` instance; the latencies are of `manager.update()`.",
        "",
        "| writers | updates each | writes/s | vs 1 writer | p50 | p99 | max "
        "| statements per update | errors |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    one = result["runs"].get("1 writer")
    for run in result["runs"].values():
        rel = f"{run['writes_per_s'] / one['writes_per_s']:.2f}x" if one else "n/a"
        p50, p99, top = (
            "n/a" if run[k] is None else f"{fmt_time(run[k])} ms"
            for k in ("p50_ms", "p99_ms", "max_ms")
        )
        queries = "n/a" if run.get("queries") is None else f"{run['queries']:.2f}"
        lines.append(
            f"| {run['threads']} | {run['per_thread']:,} | {run['writes_per_s']:,.0f} | {rel} "
            f"| {p50} | {p99} | {top} | {queries} | {run['errors']} |"
        )
    errors = [e for run in result["runs"].values() for e in run.get("first_errors", [])]
    if errors:
        lines += ["", "First errors:", "", *(f"- `{e}`" for e in errors[:5])]
    return [*lines, ""]


def api_lines(data: dict[str, Any]) -> list[str]:
    setup = data["setup"]
    bare = _rps(data, "bare GET")
    lines = [
        f"gunicorn, {setup['workers']} sync workers on 127.0.0.1; wrk, {setup['connections']} "
        f"connections, {setup['seconds']} s per scenario; a config with {setup['versions']:,} "
        f"versions of {setup['config_bytes'] / 1000:.1f} KB.",
        "",
        "| scenario | requests/s | p50 | p99 | vs bare GET | wrong status | socket errors |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, result in data["results"].items():
        rel = f"{result['rps'] / bare:.2f}x" if bare else "n/a"
        lines.append(
            f"| {name} | {result['rps']:,.0f} | {result['p50_us'] / 1000:.1f} ms "
            f"| {result['p99_us'] / 1000:.1f} ms | {rel} | {result['unexpected_status']} "
            f"| {result['socket_errors']} |"
        )
    return lines


def markdown(runs: dict[str, Any], api: dict[str, Any], plot: Path | None) -> str:
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    out = [
        "# Benchmarks: config_versions beside django-reversion, django-simple-history and "
        "a raw-SQL floor",
        "",
        f"Generated by `make bench` ({now}); do not edit by hand, run it again. How it is "
        "measured: [README.md](README.md). Where a target is missed and why: "
        "[PROFILES.md](PROFILES.md).",
        "",
        *environment_lines(runs, api),
        "",
        "## Targets (config_versions; every ratio from numbers of the same run)",
        "",
        *targets_table(runs, api),
        "",
    ]
    if plot is not None:
        out += [f"![write and read time per contender]({plot.name})", ""]
    for vendor in DATABASES:
        if vendor not in runs:
            continue
        data = runs[vendor]
        out += [
            f"## {runs[vendor]['environment']['server']}",
            "",
            "Median per operation (ratio to the raw-SQL floor of the same run, queries per "
            "operation).",
            "",
            *workload_table(data),
            "",
            *label_lines(data),
            "### W5 storage",
            "",
            *storage_lines(data),
            "### W6 admin pages",
            "",
            *admin_lines(data),
            "",
        ]
        if "W7" in data["results"]:
            out += ["### W7 contended writes", "", *contended_lines(data)]
        if vendor in api:
            out += [f"### API under load ({NAMES[vendor]})", "", *api_lines(api[vendor]), ""]
    return "\n".join(out).rstrip() + "\n"


# Plot ---------------------------------------------------------------------------------


def plot(runs: dict[str, Any], path: Path) -> Path | None:
    present = [v for v in DATABASES if v in runs]
    if not present:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [("W1", "write\n(update)"), ("W2", "read\ncurrent"), ("W3", "newest 50\nof 10,000")]
    panels += [("W4", "rollback\n5 KB"), ("W4-large", "rollback\n200 KB")]
    figure, axes = plt.subplots(1, len(present), figsize=(6.5 * len(present), 4.6), squeeze=False)
    colours = {"config_versions": "#2b6cb0", "reversion": "#c05621"}
    colours |= {"simple_history": "#6b46c1", "floor": "#718096"}
    width = 0.2
    for axis, vendor in zip(axes[0], present, strict=True):
        results = runs[vendor]["results"]
        shown = [(k, label) for k, label in panels if k in results]
        for index, contender in enumerate(CONTENDERS):
            values = [median(results[k], contender) or 0 for k, _ in shown]
            positions = [i + (index - 1.5) * width for i in range(len(shown))]
            axis.bar(positions, values, width, label=LABELS[contender], color=colours[contender])
        axis.set_yscale("log")
        axis.set_xticks(range(len(shown)), [label for _, label in shown])
        axis.set_ylabel("ms per operation (log scale, lower is better)")
        axis.set_title(runs[vendor]["environment"]["server"])
        axis.grid(axis="y", which="both", alpha=0.25)
    axes[0][0].legend(loc="upper left", fontsize="small")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--results", type=Path, default=HERE / "results")
    parser.add_argument("--markdown", type=Path, default=HERE / "RESULTS.md")
    parser.add_argument("--plot", type=Path, default=HERE / "results.png")
    args = parser.parse_args(argv)
    runs, api = load(args.results)
    image = plot(runs, args.plot)
    args.markdown.write_text(markdown(runs, api, image))
    print(f"wrote {args.markdown}" + (f" and {image}" if image else ""))
    for vendor in DATABASES:
        if vendor in runs:
            for target in TARGETS:
                _, ok = target.measure(runs[vendor]["results"])
                print(f"  {NAMES[vendor]:<10} {target.name:<32} {verdict(ok)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
