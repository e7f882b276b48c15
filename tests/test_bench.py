"""The benchmarks keep running: each is executed once with tiny sizes.

They check that every figure is reported, never how fast anything is: performance
claims come from running the benchmarks on a quiet machine, not from tests.
"""

import gc
import json
import math
import re
import shutil
import socket
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import pytest

from bench import crowd, driver, redaction
from bench.report import ROWS, Figures
from bench.scenarios import BOTS, PROJECT, SCENARIOS

ROOT = Path(__file__).resolve().parent.parent


def run_module(module: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``python -m module args`` with this interpreter, in the project's folder."""
    return subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_redaction_benchmark_prints_its_table(capsys: pytest.CaptureFixture[str]) -> None:
    redaction.main(counts=(0, 50), rounds=10)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("unfiltered log record:")
    assert [line.split()[0] for line in lines[2:]] == ["0", "50"]


def test_crowd_benchmark_reports_every_figure_for_both_bots(tmp_path: Path) -> None:
    out = tmp_path / "crowd.json"
    run = run_module("bench.crowd", "--n", "5", "--latency", "0.01", "--json", str(out))
    assert run.returncode == 0, run.stderr[-3000:]
    report = json.loads(out.read_text(encoding="utf-8"))

    assert [(s["scenario"], s["n"]) for s in report["scenarios"]] == [
        (name, 5) for name in SCENARIOS
    ]
    for scenario in report["scenarios"]:
        where = scenario["scenario"]
        assert set(scenario["bots"]) == set(BOTS)
        for bot, figures in scenario["bots"].items():
            for name, _, _ in ROWS:
                value = figures[name]
                assert isinstance(value, int | float), (where, bot, name, value)
                assert math.isfinite(value), (where, bot, name, value)
                assert value >= 0, (where, bot, name, value)
            # Every member is accounted for (answered, or refused by Discord as too late),
            # and the bot's own process was measured.
            assert figures["interactions"] == 5, (where, bot)
            assert figures["completed"] >= 1, (where, bot)
            assert figures["completed"] + figures["missed_acks"] >= 5, (where, bot)
            assert figures["cpu_seconds"] > 0, (where, bot)
            assert figures["peak_rss_mib"] > 10, (where, bot)
            assert figures["first_p50_ms"] <= figures["first_max_ms"], (where, bot)
        assert set(scenario["ratios"]) == {name for name, _, _ in ROWS}
        assert all(r.endswith("x") or r in ("inf", "n/a") for r in scenario["ratios"].values())
        # The table shows the same figures, side by side, ratios as "1.23x".
        assert f"{where}, N=5" in run.stdout
    uses_ct = {s["scenario"]: s["bots"] for s in report["scenarios"]}
    for name in ("dice", "connect", "panel"):
        for bot in BOTS:
            # On the panel every other member is connected: of the 3 warm-up members
            # two vote logged and one casts the lock's anonymous vote; of the 5 in the
            # burst two vote logged and the bot answers the three anonymous clicks
            # itself (the anonymous vote is used). The bare bot sends every click.
            expected = 2 if (name, bot) == ("panel", PROJECT) else 5
            assert uses_ct[name][bot]["ct_requests"] == expected, (name, bot)
            assert uses_ct[name][bot]["ct_connections"] >= 0, (name, bot)
    assert "first response p99 (ms)" in run.stdout
    assert re.search(r"\d+\.\d\dx$", run.stdout, re.MULTILINE)


def test_the_baseline_can_import_the_projects_libraries_to_weigh_them() -> None:
    run = run_module(
        *("bench.crowd", "--scenario", "dice", "--n", "2", "--latency", "0.01"),
        *("--bots", "baseline", "--keep", "--baseline-imports", "libraries"),
    )
    assert run.returncode == 0, run.stderr[-3000:]
    kept = re.search(r"kept in (\S+)", run.stdout)
    assert kept is not None, run.stdout
    workdir = Path(kept.group(1))
    try:
        log = "".join(path.read_text() for path in workdir.glob("*/*/bot.log"))
        for module in crowd.PROJECT_LIBRARIES.split(","):
            assert f"imported {module}" in log
    finally:
        shutil.rmtree(workdir)


def test_free_ports_are_taken_below_the_ephemeral_range() -> None:
    # Outgoing connections draw their ports from the ephemeral range: one of a crowd's
    # could take a port picked there before the fake that was to listen on it.
    first_ephemeral, _ = driver._ephemeral_ports()
    for _ in range(20):
        port = driver.free_port()
        assert driver.PRIVATE_PORTS_FROM <= port < first_ephemeral
        with socket.socket() as listener:
            listener.bind(("127.0.0.1", port))


def test_the_drivers_collector_is_off_for_a_burst_and_back_after() -> None:
    assert gc.isenabled()
    with driver.collections_held_off():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(LookupError), driver.collections_held_off():
        raise LookupError("a burst that fails")
    assert gc.isenabled()


def test_baseline_imports_must_name_modules_that_exist() -> None:
    assert crowd.parse_args(["--baseline-imports", "json"]).baseline_imports == ["json"]
    with pytest.raises(SystemExit):
        crowd.parse_args(["--baseline-imports", "no_such_module_here"])


def figures(**changes: object) -> Figures:
    base: dict[str, object] = {
        spec.name: (0 if spec.type in ("int", int) else 1.0) for spec in fields(Figures)
    }
    return Figures(**(base | changes))  # type: ignore[arg-type]


def test_repeated_runs_combine_as_medians_keeping_the_worst_counts() -> None:
    runs = [
        figures(cpu_ms_per_interaction=3.0, first_p99_ms=200.0, missed_acks=0, completed=300),
        figures(cpu_ms_per_interaction=9.0, first_p99_ms=100.0, missed_acks=2, completed=298),
        figures(cpu_ms_per_interaction=4.0, first_p99_ms=None, missed_acks=1, completed=299),
    ]
    combined = Figures.combined(runs)
    assert combined.cpu_ms_per_interaction == 4.0
    assert combined.first_p99_ms == 150.0  # the median of the runs that had one
    assert combined.missed_acks == 2
    assert combined.completed == 298


def test_lock_lookup_benchmark_prints_a_line_per_lock_count(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from bench import lock_lookup

    lock_lookup.main(counts=(3, 30), rounds=2)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[0] == "locks"
    rows = [line.split() for line in lines[1:]]
    assert [row[0] for row in rows] == ["3", "30"]
    assert rows[0][2] == "1.00"
    assert all(float(row[1]) > 0 and float(row[3]) > 0 for row in rows)


def test_timeline_benchmark_reports_both_phases(tmp_path: Path) -> None:
    out = tmp_path / "timeline.json"
    run = run_module(
        *("bench.timeline", "--members", "5", "--renders", "2", "--rounds", "1"),
        *("--votes", "20", "--json", str(out)),
    )
    assert run.returncode == 0, run.stderr[-3000:]
    report = json.loads(out.read_text(encoding="utf-8"))

    assert report["charts_drawn"] == 2
    assert report["charts_from_cache"] == 4
    for name in (
        "quiet_p99_ms",
        "cached_p99_ms",
        "rendering_p99_ms",
        "control_p99_ms",
        "p99_ratio",
        "idle_p99_ratio",
        "noise_p99_ratio",
    ):
        assert math.isfinite(report[name]), name
        assert report[name] > 0, name
    assert "first-response p99 while rendering" in run.stdout


def test_the_baseline_pools_as_many_connections_as_the_project_bot() -> None:
    # A smaller pool costs less CPU per request in httpcore: the two must match for
    # the CPU ratio to say anything about the rest of the bot.
    from bench.baseline_bot import POOL, POOL_SIZE
    from bot.ctapi.client import MAX_CONNECTIONS

    assert POOL_SIZE == MAX_CONNECTIONS
    assert POOL.max_connections == POOL.max_keepalive_connections == MAX_CONNECTIONS
