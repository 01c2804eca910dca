"""The ``calculax`` command line: the tour runs, prints its table, writes its figure."""

import math
import os
import re
import shlex
import site
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from calculax.cli import main

ROOT = Path(__file__).resolve().parent.parent


def _environment_site_dirs() -> list[str]:
    """The folders the running environment imports its packages from.

    In a virtual environment: its own site-packages (and its base's when made with
    ``--system-site-packages``); in the system Python: the system's and the user's.
    """
    dirs = list(site.getsitepackages())
    if site.ENABLE_USER_SITE:
        dirs.append(site.getusersitepackages())
    return [d for d in dict.fromkeys(dirs) if os.path.isdir(d)]


@pytest.fixture(scope="session")
def wheel(tmp_path_factory):
    """The wheel and sdist of this tree, built as a release is, installed in a venv.

    ``python -m build --no-isolation`` (hatchling from the test extra, so nothing is
    downloaded) writes both; the wheel goes into a fresh venv (``--without-pip``)
    by this environment's ``pip --python VENV install --no-deps --ignore-installed``
    (the editable calculax of the environment must not satisfy the requirement).
    JAX and the other dependencies come from the environment running the tests, not
    from the network: a ``.pth`` file in the venv lists that environment's
    site-packages folders, after the venv's own (so the wheel's calculax comes
    first; the ``.pth`` files inside them, such as an editable install's, are not
    read). This works from a virtual environment, where ``--system-site-packages``
    would reach the base interpreter's packages instead, as from the system Python.
    Returns ``(dist folder, venv's bin folder)``.
    """
    root = tmp_path_factory.mktemp("wheel")
    dist, venv = root / "dist", root / "venv"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    build = [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(dist)]
    subprocess.run(build + [str(ROOT)], check=True, capture_output=True, env=env)
    make = [sys.executable, "-m", "venv", "--without-pip", str(venv)]
    subprocess.run(make, check=True, env=env)
    purelib = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-c",
            "import sysconfig as s; print(s.get_paths()['purelib'])",
        ],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    ).stdout.strip()
    lines = "".join(f"{d}\n" for d in _environment_site_dirs())
    (Path(purelib) / "_calculax_test_environment.pth").write_text(lines)
    (whl,) = dist.glob("calculax-*.whl")
    pip = [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python")]
    pip += ["install", "--no-deps", "--ignore-installed", "--no-index", "--quiet"]
    pip += [str(whl)]
    subprocess.run(pip, check=True, capture_output=True, env=env, cwd=root)
    return dist, venv / "bin"


@pytest.fixture(scope="session")
def tour(wheel, tmp_path_factory):
    """``calculax tour`` run by the console script that the built wheel installed."""
    _, bin_dir = wheel
    out = tmp_path_factory.mktemp("tour") / "figures"  # created by the tour
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run(
        [str(bin_dir / "calculax"), "tour", "--out", str(out)],
        capture_output=True,
        text=True,
        env=env,
        cwd=out.parent,
    )
    if done.returncode != 0:
        pytest.fail(f"calculax tour failed:\n{done.stderr[-3000:]}")
    return done.returncode, done.stdout, out


FIND_SPEC = "import importlib.util as u; print(u.find_spec('calculax').origin)"


def test_the_wheel_is_what_the_venv_imports(wheel):
    dist, bin_dir = wheel
    where = subprocess.run(
        [str(bin_dir / "python"), "-c", FIND_SPEC],
        capture_output=True,
        text=True,
        check=True,
        cwd=dist,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
    ).stdout.strip()
    assert Path(where).is_relative_to(bin_dir.parent), where


def test_the_wheel_and_sdist_hold_the_package(wheel):
    dist, _ = wheel
    (whl,) = dist.glob("calculax-*.whl")
    (sdist,) = dist.glob("calculax-*.tar.gz")
    with zipfile.ZipFile(whl) as archive:
        names = set(archive.namelist())
    for name in ("calculax/py.typed", "calculax/_tour/_run.py", "calculax/cli.py"):
        assert name in names
    assert any(n.endswith("entry_points.txt") for n in names)
    with tarfile.open(sdist) as archive:
        names = {m.name.split("/", 1)[-1] for m in archive.getmembers()}
    for name in ("pyproject.toml", "README.md", "src/calculax/py.typed"):
        assert name in names


def _row(table: str, order: str, method: str) -> list[str]:
    match = re.search(rf"^\s*{order}\s+{method}\s+(.*)$", table, flags=re.MULTILINE)
    assert match, f"no row for {order} {method} in:\n{table}"
    return match.group(1).split()


def test_tour_succeeds_and_writes_the_figure(tour):
    status, _, out = tour
    assert status == 0
    figure = out / "stable_division.png"
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_tour_table_calculax_is_right_everywhere(tour):
    # float32, a = b = 10**k for k = -45..38: the first derivative 1/b is a normal
    # float32 at 75 points (k = -37..37: smaller inputs are subnormal and flushed to 0
    # by XLA on CPU, and 1/1e38 is subnormal); -2/b**2 at 39 (k = -19..19).
    _, table, _ = tour
    assert _row(table, "first", "calculax")[0] == "75/75"
    assert _row(table, "second", "calculax")[0] == "39/39"


def test_tour_table_naive_jax_fails_as_in_the_seed(tour):
    # jax.grad forms a/b**2: b**2 underflows (inf) or overflows (zero).
    _, table, _ = tour
    right, inaccurate, inf, zero, nan = _row(table, "first", "jax")
    assert (right, inf, zero, nan) == ("37/75", "19", "19", "0")
    right, inaccurate, inf, zero, nan = _row(table, "second", "jax")
    assert (right, inf, zero, nan) == ("25/39", "7", "7", "0")


def test_tour_audit_chapter(tour):
    # Chapter 2: calculax.audit with truths from the jaxpr interpreter; the seed's
    # ratio, stabilized, is right at every representable point at orders 1-3.
    _, table, out = tour
    rows = {
        (m.group(1).strip(), int(m.group(2)), m.group(3)): m.group(4)
        for m in re.finditer(
            r"^\s+(-a / b|-exp\(log\(a\) - log\(b\)\))\s+(\d)\s+"
            r"(jax|stabilized|rewritten)"
            r"\s+(\d+/\d+)",
            table,
            flags=re.MULTILINE,
        )
    }
    assert rows["-a / b", 1, "jax"] == "37/75"
    for order, n in ((1, 75), (2, 39), (3, 25)):
        assert rows["-a / b", order, "stabilized"] == f"{n}/{n}"
        # The workaround rewritten back into a quotient: right everywhere too
        # (stabilized alone misses one point at order 2, a sum of subnormal terms).
        assert rows["-exp(log(a) - log(b))", order, "rewritten"] == f"{n}/{n}"
    assert len(rows) == 18
    assert (out / "audit_workaround.png").read_bytes()[:4] == b"\x89PNG"


def test_tour_entropy_chapter(tour):
    # SciPy's generic quadrature fails on 5 of the 9 cases (0 for gamma(1e4),
    # chi2(1e4), beta(2, 1e20); 2e6 for vonmises(1); gamma(1e-3)); calculax's closed
    # forms, in float32 here, on none (errors against mpmath at 50 digits).
    _, text, out = tour
    assert "generic quad wrong on 5/9, calculax on 0/9" in text
    assert re.search(r"truncnorm\(20.0, 21.0\).*WRONG nan", text)
    assert (out / "entropy.png").read_bytes()[:4] == b"\x89PNG"


def test_tour_curvature_chapter(tour):
    # The MLP's exact norms (dense Hessian) against the estimates at 40 matvecs
    # (fixed keys): the spectral norm by Lanczos to 1e-3, the trace within 3 of its
    # own standard errors; the seed's recipe is far below both norms it claims.
    _, text, out = tour
    row = re.search(
        r"^\s+spectral norm\s+([\d.]+)\s+\S+ \+- \S+\s+\S+\s+([\d.]+)", text, re.M
    )
    exact, estimate = float(row.group(1)), float(row.group(2))
    assert abs(estimate - exact) <= 1e-3 * exact
    row = re.search(
        r"^\s+trace\s+([\d.]+)\s+\S+ \+- \S+\s+\S+\s+([\d.]+) \+- ([\d.]+)", text, re.M
    )
    exact, estimate, stderr = (float(g) for g in row.groups())
    assert abs(estimate - exact) <= 3 * stderr
    rms = [float(v) for v in re.findall(r"rms = ([\d.]+)", text)]
    frobenius = float(re.search(r"\|\|H\|\|_F = ([\d.]+)", text).group(1))
    spectral = float(re.search(r"\|\|H\|\|_2 = ([\d.]+)", text).group(1))
    assert len(rms) == 3 and max(rms) < min(frobenius, spectral) / 2
    assert (out / "curvature_density.png").read_bytes()[:4] == b"\x89PNG"


def test_tour_ode_chapter(tour):
    # The seed's ODE questions: y = 0.8 at t = 100 ln 4 for the logistic equation,
    # and every crossing of F = 0.85 by the spring -- as many as SciPy's DOP853 (an
    # independent method, no two roots in one of its steps at rtol 1e-10), in
    # increasing order. Run in float64 whatever the tour's dtype.
    _, text, out = tour
    logistic = re.search(r"y = 0.8 at t = ([\d.]+)", text)
    assert abs(float(logistic.group(1)) - 100 * math.log(4)) <= 1e-10 * 139
    found = re.search(r"calculax finds (\d+) crossings, SciPy DOP853 (\d+)", text)
    assert found.group(1) == found.group(2) == "19"
    times = [
        float(t) for t in re.findall(r"^\s+\d+\s+([\d.]+)\s+(?:up|down)$", text, re.M)
    ]
    assert len(times) == 19 and times == sorted(times)
    assert "float64 under jax.enable_x64" in text
    assert (out / "ode_events.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize(
    "argv",
    [[], ["tor"], ["tour", "--dtype", "float16"], ["tour", "--bogus"]],
    ids=["no-command", "unknown-command", "bad-dtype", "unknown-option"],
)
def test_bad_arguments_give_one_line_and_nonzero_status(argv, capsys):
    status = main(argv)
    captured = capsys.readouterr()
    assert status != 0
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("calculax: error:")


def test_unwritable_out_is_one_line_error(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    status = main(["tour", "--out", str(blocker)])
    captured = capsys.readouterr()
    assert status == 1
    assert len(captured.err.strip().splitlines()) == 1


def test_ci_runs_exactly_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    script = (ROOT / ".ci" / "run").read_text().strip().splitlines()
    command = script[-1].strip()
    assert shlex.split(command)[:3] == ["python", "-m", "pip"]
    assert f"\n{command}\n" in readme


# --- calculax audit / calculax explain -------------------------------------------


def _run(argv, capsys):
    status = main(argv)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_audit_the_seed_ratio_on_a_small_range(tmp_path, capsys):
    # float32, a = b = 10**k for k = -20..20: d/db (-a/b) = 1/b is representable at
    # all 41 points. JAX's rule forms b**-2 = 1/(b*b): b*b flushes to 0 for
    # k <= -19 (inf) and 1/(b*b) is subnormal, flushed, for k >= 19 (zero).
    plot = tmp_path / "audit.png"
    argv = ["audit", "lambda a, b: -a / b", "--wrt", "b", "--tie", "a=b"]
    argv += ["--range", "1e-20:1e20", "--plot", plot, "--progress"]
    status, out, err = _run(argv, capsys)
    assert status == 0
    assert "| jax | 37/41 | 0 | 2 | 2 | 0 |" in out
    assert "| stabilized | 41/41 | 0 | 0 | 0 | 0 |" in out
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert err.endswith("] 41/41 truths\n") and "\r[" in err  # the progress bar


def test_audit_with_rewrite(capsys):
    # The seed's workaround at order 2, a = b = 10**k, k = 15..19 (float32): at
    # b = 1e19 the truth -2/b**2 = -2e-38 is a sum of subnormal terms for JAX (0);
    # stabilize differentiates the rewritten quotient (values kept), and with
    # --rewrite the values are the quotient's too: both are right.
    argv = ["audit", "lambda a, b: -jnp.exp(jnp.log(a) - jnp.log(b))", "--wrt", "b"]
    argv += ["--tie", "a=b", "--range", "1e15:1e19", "--order", "2", "--rewrite"]
    status, out, _ = _run(argv, capsys)
    assert status == 0
    assert "| stabilized | 5/5 | 0 | 0 | 0 | 0 |" in out
    assert "| rewritten | 5/5 | 0 | 0 | 0 | 0 |" in out


def test_audit_a_negative_range(capsys):
    # tanh''(x) = -2 tanh(x) sech(x)**2 at x = -10**k, k = -2..2 (float32): at
    # x = -100 the truth (~1e-86) is not representable; at x = -10 JAX's rule
    # (1 + t)(1 - t) rounds t = tanh(-10) to -1 and gives 0; calculax's sech**2 does
    # not.
    argv = ["audit", "lambda x: jnp.tanh(x)", "--range=-1e2:-1e-2", "--order", "2"]
    status, out, _ = _run(argv, capsys)
    assert status == 0
    assert "| jax | 3/4 | 0 | 0 | 1 | 0 |" in out
    assert "| stabilized | 4/4 | 0 | 0 | 0 | 0 |" in out
    assert "- x = -10: 0, 1.6489229e-08" in out


def test_explain_prints_the_rules_and_the_v_curve(tmp_path, capsys):
    # tanh'(20) in float32: JAX's rule (1 + t)(1 - t) gives 0; the truth
    # sech(20)**2 = 1.7e-17 is what calculax's rule gives.
    plot = tmp_path / "v.png"
    argv = ["explain", "lambda x: jnp.tanh(x)", "--at", "x=20", "--order", "1"]
    status, out, _ = _run([*argv, "--plot", plot], capsys)
    assert status == 0
    assert "| 1 | `v1 = tanh x` | d tanh(x) = (dx + dx*tanh(x))*(1 - tanh(x)) |" in out
    assert "- chain of rules (last row): 0.0" in out
    assert plot.read_bytes()[:4] == b"\x89PNG"
    status, out, _ = _run([*argv, "--stabilized"], capsys)
    assert status == 0
    assert "- chain of rules (last row): 1.6993418e-17" in out
    assert "no finite-difference step gets as close as autodiff" in out


@pytest.mark.parametrize("mode", ["forward", "reverse"])
def test_explain_names_its_mode_and_agrees_with_the_truth(mode, capsys):
    # d2/dx2 (x log x) = 1/x = 1e20 at x = 1e-20 (float32). stabilize rewrites the
    # idiom, so both modes give it; JAX's own rules in forward mode form
    # -1/x**2 (log's second derivative alone), which overflows.
    argv = ["explain", "lambda x: x * jnp.log(x)", "--at", "x=1e-20", "--order", "2"]
    status, out, _ = _run([*argv, "--stabilized", "--mode", mode], capsys)
    assert status == 0 and f"{mode} mode" in out
    assert "- chain of rules (last row): 1e+20" in out
    assert "truth (mpmath, `true_derivative`): 1.00000003" in out
    status, out, err = _run([*argv, "--mode", "sideways"], capsys)
    assert status == 2 and "--mode" in err and out == ""


def test_explain_a_function_from_a_module(tmp_path, monkeypatch, capsys):
    (tmp_path / "cx_cli_module.py").write_text("def ratio(a, b):\n    return -a / b\n")
    monkeypatch.chdir(tmp_path)
    argv = ["explain", "cx_cli_module:ratio", "--wrt", "b", "--at", "a=3", "--at"]
    status, out, _ = _run([*argv, "b=2", "--dtype", "float64"], capsys)
    assert status == 0
    assert "- chain of rules (last row): 0.75" in out  # a / b**2


@pytest.mark.parametrize(
    "argv, status, fragment",
    [
        (["explain", "lambda x: jnp.tanh(x"], 2, "never closed"),
        (["explain", "lambda x: jnp.cumsum(x)"], 2, "unknown function jnp.cumsum"),
        (["explain", "lambda x: __import__('os').getcwd()"], 2, "'__import__'"),
        (["explain", "lambda x: x", "--wrt", "y"], 2, "unknown argument 'y'"),
        (["explain", "lambda x: x", "--at", "x=abc"], 2, "not a number"),
        (["explain", "lambda x: x", "--order", "0"], 2, "--order must be between 1"),
        (["audit", "lambda a: a", "--range", "1:-1"], 2, "same sign"),
        (["audit", "lambda a: a", "--range", "1e5"], 2, "LO:HI"),
        (["audit", "lambda a, b: a", "--tie", "a"], 2, "NAME=VALUE"),
        (["audit", "cx_no_such_module:f"], 1, "cannot import module"),
        (["explain", "lambda x: jnp.exp(x)", "--plot", "/nonexistent/v.png"], 1, ""),
    ],
    ids=[
        "malformed",
        "unknown-function",
        "dunder",
        "unknown-wrt",
        "bad-at",
        "bad-order",
        "bad-range-sign",
        "bad-range-form",
        "bad-tie",
        "module-not-importable",
        "unwritable-plot",
    ],
)
def test_audit_explain_errors_are_one_line(argv, status, fragment, capsys):
    code, out, err = _run(argv, capsys)
    assert code == status
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("calculax: error:")
    assert fragment in lines[0]
    assert "Traceback" not in err
