"""The benchmark scripts still run (on a few images, or --quick): a check that they work, not a
timing."""

import sys

from conftest import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
import overhead
import vae_speed


def test_vae_speed_runs_and_reports_both_loops(capsys):
    vae_speed.main(["--device", "cpu", "--epochs", "1", "--images", "512"])
    out = capsys.readouterr().out
    assert "(a) pytorch/examples loop" in out and "(b) vicourse.train" in out
    assert "speed-up (a)/(b)" in out and "final training loss per image" in out


def test_overhead_runs_and_reports(capsys):
    results = overhead.main(["--quick"])
    out = capsys.readouterr().out
    for heading in ["== 1. code ==", "== 2. check calls per call", "== 3. timings"]:
        assert heading in out
    assert "check share:" in out and "specs on" in out and "fit_local per step:" in out
    assert "float32: (a)" in out and "float64: (a)" in out and "final ELBOs" in out
    assert max(len(line) for line in out.splitlines()) <= 100
    assert str(ROOT) not in out  # the width cannot depend on where the checkout lies
    assert 0 < results["check_lines"] < results["code_lines"] and results["elbo_pathwise"] > 0
    assert all(results[k] > 0 for k in ["float32", "float32 off", "float64", "float64 off", "fit"])
    fit_local, plain = results["finals"]  # the same draws: the plain loop is fit_local's baseline
    assert abs(fit_local - plain) < 1e-3
