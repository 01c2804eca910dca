"""Cold start: ``import calculax`` and the first answer of one-off scripts.

A user who asks one question runs a fresh Python process: the import, the tracing,
the lowering and the XLA compilation of the first call are the cost of the answer.
Every row here is a fresh process (``python -c SCRIPT``), timed from start to exit;
the rows are interleaved (one run of every script, then the next round) and each
number is the median of ``--repeats`` rounds (at least 3), so that a busy moment of
the machine spreads over all rows instead of one.

Rows:

- ``import jax`` and ``import calculax``;
- per capability, the calculax script and the script answering the same question
  with SciPy or plain JAX: ``derivative`` (third derivative of ``tanh``, plain JAX
  nests ``jax.grad``), ``stabilize`` (the seed's ``d(-a/b)/db`` at ``a = b = 1e-30``
  in float32; plain JAX answers ``inf``), ``entropy`` (of a standard normal written
  as a log-density; SciPy's ``quad`` of ``-p log p``), ``quad`` (``exp(-x**2)`` on
  the line; ``scipy.integrate.quad``), ``curvature`` (Hessian trace of a logistic
  loss in 200 parameters, 30 matrix-vector products, ``method="auto"``; plain JAX
  forms the dense Hessian), ``find_time`` (the seed's ``y' = 0.01 y (1 - y)``,
  ``y(0) = 0.2``: when is ``y = 0.8``, rtol 1e-10; SciPy's ``solve_ivp`` with an
  event) and ``scipy_front`` (the same question through
  ``calculax.scipy.integrate.solve_ivp``; skipped, with a note, where that front does
  not exist).

Printed: each median, its difference to ``import jax`` (the bar of issue 19 is on
that difference) and the ratio to the alternative. ``--profile`` adds, per
capability, one more fresh process that splits the first call into Python tracing,
lowering to StableHLO and XLA compilation (from ``jax.monitoring``'s time spans; a
moment inside two spans counts for the inner one) and the run (the second call).
``--cache`` repeats the calculax rows with JAX's persistent compilation cache in a
fresh folder (``jax_compilation_cache_dir``, every program cached whatever its
compile time): one process fills it, the timed ones read it.

Run: ``python benchmarks/cold_start.py [--repeats 3] [--profile] [--cache]
[--src DIR] [--only NAME ...]``; ``--src`` puts another source tree first on
``PYTHONPATH`` (``--src /path/to/old/src`` measures another version).
Writes ``benchmarks/results/cold_start-<UTC time>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from _results import write_results

ROOT = Path(__file__).resolve().parents[1]
X64 = 'import jax\njax.config.update("jax_enable_x64", True)\n'


@dataclass(frozen=True)
class Case:
    """A question: calculax's script and the alternative's, as SETUP + ANSWER.

    The script run is ``setup`` followed by ``print(answer)``; ``answer`` is one
    expression, the first call (``--profile`` evaluates it twice).
    """

    setup: str
    answer: str
    alternative: str  # "SciPy" or "plain JAX"
    alt_setup: str
    alt_answer: str
    requires: str | None = None  # a module the calculax script needs


SCIPY_SETUP = (
    "from scipy.integrate import solve_ivp\n"
    "def fun(t, y):\n    return 0.01 * y * (1 - y)\n"
    "def hit(t, y):\n    return y[0] - 0.8\nhit.terminal = True\n"
)
SCIPY_ANSWER = (
    "solve_ivp(fun, (0.0, 3000.0), [0.2], events=hit, rtol=1e-10, "
    "atol=1e-12).t_events[0][0]"
)

CASES = {
    "derivative": Case(
        "import jax.numpy as jnp\nimport calculax as cx\n"
        "d3 = cx.derivative(jnp.tanh, order=3)\n",
        "float(d3(0.7))",
        "plain JAX",
        "import jax, jax.numpy as jnp\nd3 = jax.grad(jax.grad(jax.grad(jnp.tanh)))\n",
        "float(d3(0.7))",
    ),
    "stabilize": Case(
        "import jax\nimport calculax as cx\n"
        "g = jax.grad(cx.stabilize(lambda a, b: -a / b), argnums=1)\n",
        "float(g(1e-30, 1e-30))",
        "plain JAX",
        "import jax\ng = jax.grad(lambda a, b: -a / b, argnums=1)\n",
        "float(g(1e-30, 1e-30))",
    ),
    "entropy": Case(
        X64 + "import jax.numpy as jnp\nimport calculax as cx\n"
        "def logp(x):\n    return -0.5 * x**2 - 0.5 * jnp.log(2 * jnp.pi)\n",
        "float(getattr(h := cx.entropy(logp, support=(-jnp.inf, jnp.inf)), "
        "'value', h))",
        "SciPy",
        "import numpy as np\nfrom scipy import integrate\n"
        "def logp(x):\n    return -0.5 * x**2 - 0.5 * np.log(2 * np.pi)\n"
        "def h(x):\n    return -np.exp(logp(x)) * logp(x)\n",
        "integrate.quad(h, -np.inf, np.inf)[0]",
    ),
    "quad": Case(
        X64 + "import jax.numpy as jnp\nfrom calculax.integrate import quad\n"
        "def f(x):\n    return jnp.exp(-x * x)\n",
        "float(quad(f, -jnp.inf, jnp.inf).value)",
        "SciPy",
        "import numpy as np\nfrom scipy import integrate\n"
        "def f(x):\n    return np.exp(-x * x)\n",
        "integrate.quad(f, -np.inf, np.inf)[0]",
    ),
    "curvature": Case(
        "import jax, jax.numpy as jnp\nfrom calculax import curvature\n"
        "x = jax.random.normal(jax.random.key(1), (100, 200))\n"
        "def loss(w):\n    return jnp.sum(jnp.logaddexp(0.0, x @ w))\n"
        "w = jnp.full(200, 0.01)\n",
        "float(curvature.trace(curvature.hessian_operator(loss, w), "
        "num_matvecs=30, key=jax.random.key(0)).value)",
        "plain JAX",
        "import jax, jax.numpy as jnp\n"
        "x = jax.random.normal(jax.random.key(1), (100, 200))\n"
        "def loss(w):\n    return jnp.sum(jnp.logaddexp(0.0, x @ w))\n"
        "w = jnp.full(200, 0.01)\n",
        "float(jnp.trace(jax.hessian(loss)(w)))",
    ),
    "find_time": Case(
        X64 + "from calculax.ode import find_time\n"
        "def fun(t, y):\n    return 0.01 * y * (1 - y)\n"
        "def hit(t, y):\n    return y - 0.8\n",
        "float(find_time(fun, (0.0, 3000.0), 0.2, hit, rtol=1e-10, atol=1e-12))",
        "SciPy",
        SCIPY_SETUP,
        SCIPY_ANSWER,
    ),
    "scipy_front": Case(
        X64 + SCIPY_SETUP.replace("scipy.integrate", "calculax.scipy.integrate"),
        f"float({SCIPY_ANSWER})",
        "SciPy",
        SCIPY_SETUP,
        SCIPY_ANSWER,
        requires="calculax.scipy.integrate",
    ),
}

# --profile: the first call split by jax.monitoring's time spans (innermost wins).
PROFILE = """
import json, sys, time
_t0 = time.perf_counter()
import jax, jax.monitoring
_spans = []
_KIND = {
    "/jax/core/compile/jaxpr_trace_duration": "trace",
    "/jax/core/compile/jaxpr_to_mlir_module_duration": "lower",
    "/jax/core/compile/backend_compile_duration": "compile",
}
def _span(event, start, end, **kwargs):
    if event in _KIND:
        _spans.append((start, end, _KIND[event], str(kwargs.get("fun_name", "?"))))
jax.monitoring.register_event_time_span_listener(_span)
SETUP
_t1 = time.perf_counter(); _w1 = time.time()
_first = ANSWER
_t2 = time.perf_counter(); _w2 = time.time()
_second = ANSWER
_t3 = time.perf_counter()
_rank = {"compile": 3, "lower": 2, "trace": 1}
_first_spans = [x for x in _spans if _w1 <= x[0] < _w2]
_cuts = sorted({_w1, _w2} | {t for s, e, *_ in _first_spans for t in (s, e)})
_parts = {"trace": 0.0, "lower": 0.0, "compile": 0.0, "other": 0.0}
for a, b in zip(_cuts, _cuts[1:]):
    m = 0.5 * (a + b)
    kinds = [k for s, e, k, _ in _first_spans if s <= m < e]
    _parts[max(kinds, key=_rank.get) if kinds else "other"] += b - a
_compiled = {}
for s, e, k, name in _first_spans:
    if k == "compile":
        _compiled[name] = _compiled.get(name, 0.0) + e - s
_top = sorted(_compiled.items(), key=lambda kv: -kv[1])[:8]
_n = sum(x[2] == "compile" for x in _first_spans)
print(json.dumps({"setup": _t1 - _t0, "first": _t2 - _t1, "second": _t3 - _t2,
                  "parts": _parts, "programs": _n, "top_compiles": _top,
                  "answer": float(_first)}))
"""


def _env(src: Path, cache: str | None = None) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(src)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])
    )
    for key in [k for k in env if k.startswith("JAX_")]:
        del env[key]  # the user's defaults, not this shell's
    if cache:
        env["JAX_COMPILATION_CACHE_DIR"] = cache
        env["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] = "0"
        env["JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES"] = "0"
    return env


def _run(script: str, env: dict, cwd: str) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=cwd
    )
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"script failed:\n{script}\n{done.stderr[-2000:]}")
    return seconds, done.stdout.strip().splitlines()[-1] if done.stdout else ""


def _available(module: str, env: dict, cwd: str) -> bool:
    probe = f"import importlib.util as u, sys; sys.exit(not u.find_spec({module!r}))"
    done = subprocess.run(
        [sys.executable, "-c", probe], env=env, cwd=cwd, capture_output=True
    )
    return done.returncode == 0  # 1: absent; other: its parent fails to import


class Job:
    """One script in one environment (a tree, with or without the cache)."""

    def __init__(self, script: str, env: dict):
        self.script, self.env, self.runs, self.answer = script, env, [], ""

    @property
    def median(self) -> float:
        return statistics.median(self.runs)


def _jobs(names, trees: dict[str, dict], cwd: str) -> dict[tuple[str, str], Job]:
    """``(tree label, row) -> Job``; alternatives and ``import jax`` run once."""
    any_env = next(iter(trees.values()))
    jobs = {("", "import jax"): Job("import jax", any_env)}
    for label, env in trees.items():
        jobs[label, "import calculax"] = Job("import calculax", env)
        for name in names:
            case = CASES[name]
            if case.requires and not _available(case.requires, env, cwd):
                print(f"note: {label}: {name} skipped ({case.requires} does not exist)")
                continue
            jobs[label, name] = Job(f"{case.setup}print({case.answer})", env)
    for name in names:
        if any((label, name) in jobs for label in trees):
            case = CASES[name]
            script = f"{case.alt_setup}print({case.alt_answer})"
            jobs["", name] = Job(script, any_env)
    return jobs


def _time(jobs: dict, repeats: int, cwd: str) -> None:
    keys = list(jobs)
    for round_ in range(repeats):
        shift = round_ * len(keys) // repeats  # a different row starts each round
        for key in keys[shift:] + keys[:shift]:
            seconds, jobs[key].answer = _run(jobs[key].script, jobs[key].env, cwd)
            jobs[key].runs.append(seconds)
        print(f"round {round_ + 1}/{repeats} done", file=sys.stderr)


def _table(jobs: dict, names, labels: list[str], title: str) -> str:
    jax_s = jobs["", "import jax"].median
    head = " | ".join(f"{label}: seconds (beyond `import jax`)" for label in labels)
    lines = [
        f"\n{title}; `import jax`: {jax_s:.2f} s",
        f"| what | {head} | alternative: seconds | ratio ({labels[-1]}) |",
        "|---|" + "---|" * (len(labels) + 2),
    ]
    for name in ["import calculax", *names]:
        cells, last = [], None
        for label in labels:
            job = jobs.get((label, name))
            last = job.median if job else None
            cells.append(f"{last:.2f} ({last - jax_s:+.2f})" if job else "-")
        alt = jobs.get(("", name))
        alt_cell = f"{CASES[name].alternative}: {alt.median:.2f}" if alt else ""
        ratio = f"{last / alt.median:.1f}x" if alt and last else ""
        lines.append(f"| {name} | {' | '.join(cells)} | {alt_cell} | {ratio} |")
    return "\n".join(lines)


def _profile(names, label: str, env: dict, cwd: str, jobs: dict) -> dict:
    out = {}
    print(f"\nFirst call, split ({label}; seconds; one fresh process each):")
    print(
        "| what | imports+setup | first call | trace | lower | compile | other "
        "Python | programs compiled | second call |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for name in names:
        if (label, name) not in jobs:
            continue
        case = CASES[name]
        script = PROFILE.replace("SETUP", case.setup).replace("ANSWER", case.answer)
        _, line = _run(script, env, cwd)
        r = json.loads(line)
        p = r["parts"]
        print(
            f"| {name} | {r['setup']:.2f} | {r['first']:.2f} | {p['trace']:.2f} | "
            f"{p['lower']:.2f} | {p['compile']:.2f} | {p['other']:.2f} | "
            f"{r['programs']} | {r['second']:.3f} |"
        )
        out[name] = r
    for name, r in out.items():
        top = ", ".join(f"{n} {t:.2f}" for n, t in r["top_compiles"])
        print(f"- {name}: largest compiles (s): {top}")
    return out


def _record(jobs: dict) -> dict:
    return {
        f"{label}: {name}" if label else name: {
            "median": job.median,
            "runs": job.runs,
            "answer": job.answer,
        }
        for (label, name), job in jobs.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--cache", action="store_true")
    parser.add_argument(
        "--src", type=Path, default=ROOT / "src", help="the source tree measured"
    )
    parser.add_argument(
        "--baseline", type=Path, help="another source tree, timed in the same rounds"
    )
    parser.add_argument(
        "--only", nargs="+", choices=sorted(CASES), default=sorted(CASES)
    )
    args = parser.parse_args()
    if args.repeats < 3:
        parser.error("--repeats must be at least 3 (a median of fewer is noise)")
    names = [n for n in CASES if n in args.only]
    trees = {"this tree": _env(args.src)}
    if args.baseline:
        trees = {"baseline": _env(args.baseline), **trees}
    labels = list(trees)
    record: dict = {
        "src": str(args.src),
        "baseline": str(args.baseline) if args.baseline else None,
        "repeats": args.repeats,
        "python": sys.version.split()[0],
        "cpus": os.cpu_count(),
    }
    with tempfile.TemporaryDirectory() as cwd:  # no stray files, no local imports
        jobs = _jobs(names, trees, cwd)
        _time(jobs, args.repeats, cwd)
        title = f"Cold start, median of {args.repeats} fresh processes"
        print(_table(jobs, names, labels, title))
        record["rows"] = _record(jobs)
        if args.profile:
            record["profile"] = {
                label: _profile(names, label, env, cwd, jobs)
                for label, env in trees.items()
            }
        if args.cache:
            record["cache"] = _cached(names, args.src, args.repeats, cwd, jobs)
    print("\nwrote", write_results("cold_start", record))


def _cached(names, src: Path, repeats: int, cwd: str, plain: dict) -> dict:
    """The rows of ``src`` again, with a persistent compilation cache filled once."""
    with tempfile.TemporaryDirectory() as folder:
        env = _env(src, folder)
        jobs = {
            ("", "import jax"): plain["", "import jax"],
            ("no cache", "import calculax"): plain["this tree", "import calculax"],
        }
        for name in names:
            if ("this tree", name) in plain:
                jobs["no cache", name] = plain["this tree", name]
                jobs["cache", name] = Job(plain["this tree", name].script, env)
                _run(jobs["cache", name].script, env, cwd)  # fills the cache
                jobs["", name] = plain["", name]
        size = sum(p.stat().st_size for p in Path(folder).rglob("*") if p.is_file())
        fresh = {k: j for k, j in jobs.items() if k[0] == "cache"}
        _time(fresh, repeats, cwd)
        title = (
            f"Persistent compilation cache ({size / 1e6:.1f} MB after one filling "
            f"run; 'no cache' is the table above)"
        )
        print(_table(jobs, names, ["no cache", "cache"], title))
        return {"bytes": size, "rows": _record(fresh)}


if __name__ == "__main__":
    main()
