"""The benchmarks keep running: each is executed once with tiny sizes."""

import pytest

from bench import redaction


def test_redaction_benchmark_prints_its_table(capsys: pytest.CaptureFixture[str]) -> None:
    redaction.main(counts=(0, 50), rounds=10)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("unfiltered log record:")
    assert [line.split()[0] for line in lines[2:]] == ["0", "50"]
