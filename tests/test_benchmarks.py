"""The benchmark scripts still run (on a few images): a check that they work, not a timing."""

import sys

from conftest import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
import vae_speed


def test_vae_speed_runs_and_reports_both_loops(capsys):
    vae_speed.main(["--device", "cpu", "--epochs", "1", "--images", "512"])
    out = capsys.readouterr().out
    assert "(a) pytorch/examples loop" in out and "(b) vicourse.train" in out
    assert "speed-up (a)/(b)" in out and "final training loss per image" in out
