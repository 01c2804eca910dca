"""The gallery (``examples/``): one script per seed question.

Each script's ``answer()`` -- the few lines of calculax that answer the question --
runs here and its numbers are checked against closed forms. The rest of a script is
``calculax._tour.run(out_dir, only=CHAPTERS)``, the tour's own chapters: those run
once, in ``tests/test_cli.py``, from the installed wheel, which checks their tables
and figures; here each script's ``main`` is run with the tour replaced by a recorder,
to check that it runs the chapters it names, with its folder. Script 4 has no
chapter and runs whole, as ``python examples/04_...py OUT_DIR`` would.
"""

from __future__ import annotations

import importlib.util
import math
import runpy
import sys
from pathlib import Path

import pytest

from calculax._tour import CHAPTERS

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = sorted((ROOT / "examples").glob("[0-9][0-9]_*.py"))
TOPICS = {  # script number -> the tour chapters' modules it must run
    1: ("_stable_division", "_audit_workaround"),
    2: ("_tensor_derivatives",),
    3: ("_entropy",),
    5: ("_curvature",),
    6: ("_ode_events",),
}
EPS32 = 2.0**-23


def _load(number: int):
    (path,) = [p for p in SCRIPTS if p.name.startswith(f"{number:02d}_")]
    spec = importlib.util.spec_from_file_location(f"gallery_{number:02d}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_one_script_per_seed_question():
    assert [int(p.name[:2]) for p in SCRIPTS] == [1, 2, 3, 4, 5, 6]
    for path in SCRIPTS:
        assert '"""Seed question' in path.read_text().split("\n", 1)[0]


@pytest.mark.parametrize("number", sorted(TOPICS))
def test_script_runs_its_tour_chapters(number, tmp_path, monkeypatch):
    module = _load(number)
    calls = []
    monkeypatch.setattr(module, "answer", lambda: {"answer": True})
    monkeypatch.setattr(module, "run", lambda out, only: calls.append((out, only)))
    assert module.main(str(tmp_path)) == {"answer": True}
    assert calls == [(str(tmp_path), module.CHAPTERS)]
    names = tuple(CHAPTERS[n - 1].__module__.rsplit(".", 1)[1] for n in calls[0][1])
    assert names == TOPICS[number]


# As a reader runs the scripts: JAX's default 32-bit mode (conftest.py).
float32 = pytest.mark.default_precision


@float32
def test_01_stable_gradients(capsys):
    r = _load(1).answer()
    assert math.isinf(r["first_jax"]) and math.isinf(r["second_jax"])
    assert abs(r["first_calculax"] / 1e30 - 1) <= 32 * EPS32  # truth 1/b
    assert abs(r["second_stabilize"] / -2e30 - 1) <= 64 * EPS32  # -2/b**2
    assert "d(-a/b)/db" in capsys.readouterr().out


@float32
def test_02_tensor_derivatives():
    r = _load(2).answer()
    assert r["mixed_shape"] == (2, 2, 2, 2, 2, 2)
    assert r["mixed_error"] == 0.0  # sums of small integers: exact in float32
    assert r["d2_yy_shape"] == r["d2_xy_shape"] == (2, 2, 2, 2)


@float32
def test_03_differential_entropy():
    r = _load(3).answer()
    assert abs(r["beta"] / math.log(math.pi / 4) - 1) <= 256 * EPS32
    truth = 6.0240753850260863  # mpmath: k + lgamma(k) + (1 - k) digamma(k)
    assert abs(r["gamma"] / truth - 1) <= 256 * EPS32


@float32
def test_04_how_derivatives_are_computed_runs_whole(tmp_path, capsys, monkeypatch):
    out = tmp_path / "figures"
    monkeypatch.setattr(sys, "argv", [str(SCRIPTS[3]), str(out)])
    runpy.run_path(str(SCRIPTS[3]), run_name="__main__")
    text = capsys.readouterr().out
    assert "d(x**2) = dx*(2*x)" in text and "never forms y**2" in text
    assert (out / "explain_square.png").read_bytes()[:4] == b"\x89PNG"
    r = _load(4).answer(str(out))
    assert r["autodiff"] == 2.0 and r["best_finite_difference_error"] > 0
    assert math.isinf(r["ratio_jax"])
    assert abs(r["ratio_stabilized"] / 1e30 - 1) <= 32 * EPS32


@float32
def test_05_hessian_norm():
    r = _load(5).answer()
    assert abs(r["spectral"] / r["spectral_exact"] - 1) <= 1e-3  # Lanczos rtol
    # an estimate from 10 random probes: within 4 of its standard errors
    assert abs(r["frobenius"] - r["frobenius_exact"]) <= 4 * r["frobenius_stderr"]


@float32
def test_06_ode_find_time():
    r = _load(6).answer()
    assert abs(r["t"] / (100 * math.log(4)) - 1) <= 1e-5  # rtol 1e-6 in float32
