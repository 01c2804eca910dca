"""The comparison table of the docs (``docs/comparison.md``), from the benchmarks' JSON.

Reads the newest ``benchmarks/results/<name>-*.json`` of each benchmark (or those in
the folder given as the first argument) and prints one Markdown row per claim:
the alternative, what was measured, calculax's number and the alternative's, under
the command that regenerates them. It runs nothing itself, so it is instant; a
benchmark without results is listed with the command that produces them.

    python benchmarks/compare.py [RESULTS_FOLDER]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from _results import RESULTS

COMMANDS = {
    "stable_overhead": "python benchmarks/stable_overhead.py",
    "derivatives": "python benchmarks/derivatives.py",
    "entropy": "python benchmarks/entropy.py",
    "ode": "python benchmarks/ode.py",
    "curvature": 'pip install ".[bench]" && python benchmarks/curvature.py',
    "frameworks": 'pip install ".[test,bench]" && python benchmarks/frameworks.py',
}


def newest(name: str, folder: Path) -> dict | None:
    """The newest record of benchmark ``name`` in ``folder``, or ``None``."""
    paths = sorted(folder.glob(f"{name}-*.json"))
    return json.loads(paths[-1].read_text()) if paths else None


def _stable_overhead(r: dict) -> list[tuple]:
    worst = max(r["rows"], key=lambda row: row["ratio"])
    return [
        (
            "JAX (`jax.numpy`)",
            f"jit runtime of grad/HVP, worst of {len(r['rows'])} losses "
            f"({worst['problem']}, {worst['derivative']})",
            f"{worst['calculax_s'] * 1e3:.3f} ms",
            f"{worst['jax_s'] * 1e3:.3f} ms",
            f"ratio {worst['ratio']:.2f}",
        )
    ]


def _derivatives(r: dict) -> list[tuple]:
    rows = []
    nested = [h for h in r["high_orders"] if "compile_nested_grad_s" in h]
    # the goal is stated at k = 8; a run that stopped below it shows its top
    top = next((h for h in nested if h["k"] == 8), nested[-1])
    rows.append(
        (
            "JAX (nested `jax.grad`)",
            f"k = {top['k']}-th derivative of sin(x) exp(x), compile + run",
            f"{top['compile_calculax_s'] + top['run_calculax_s']:.3f} s (Taylor mode)",
            f"{top['compile_nested_grad_s'] + top['run_nested_grad_s']:.3f} s",
            f"{top['compile_plus_run_ratio']:.1f}x faster",
        )
    )
    for jac in r["jacobians"]:
        times = jac["run_s"]
        wrong = next(k for k in times if "wrong" in k)
        rows.append(
            (
                "JAX (`jacfwd`/`jacrev`)",
                f"Jacobian R^{jac['n']} -> R^{jac['m']}, automatic mode vs "
                f"`{wrong.split()[0]}`",
                f"{times['calculax auto'] * 1e3:.3f} ms",
                f"{times[wrong] * 1e3:.3f} ms",
                f"{jac['wrong_over_auto']:.0f}x faster",
            )
        )
    return rows


def _entropy(r: dict) -> list[tuple]:
    rows = []
    for family, s in r["speed"].items():
        rows.append(
            (
                "SciPy (`scipy.stats`)",
                f"entropy of 10^5 {family} parameter settings",
                f"{s['calculax_s'] * 1e3:.1f} ms",
                f"{s['scipy_vectorised_s']:.2f} s (vectorised .entropy())",
                f"{s['ratio_vs_vectorised']:.0f}x faster",
            )
        )
    for family, a in r["accuracy"].items():
        rows.append(
            (
                "SciPy (`scipy.stats`)",
                f"{family}: worst relative error over {a['settings']} settings",
                f"{a['calculax_max_rel_error']:.1e}",
                f"{a['scipy_max_rel_error']:.1e}",
                "",
            )
        )
    return rows


def _ode(r: dict) -> list[tuple]:
    spring = r["spring"]
    ours = next(v for k, v in spring.items() if k.startswith("calculax"))
    rows = [
        (
            name.split(" (")[0].split(" + ")[0].replace("scipy", "SciPy"),
            f"seed's spring, crossings of F = 0.85 found ({name})",
            f"{ours['found']}",
            f"{v['found']}",
            v.get("note", ""),
        )
        for name, v in spring.items()
        if not name.startswith("calculax")
    ]
    e = r["ensemble"]
    rows.append(
        (
            "SciPy (`solve_ivp` loop)",
            f"{e['n']}-member ensemble with events, run time",
            f"{e['calculax_run_s']:.2f} s (+ {e['calculax_compile_s']:.1f} s compile)",
            f"{e['scipy_loop_s']:.1f} s",
            f"{e['speedup_after_compile']:.0f}x faster "
            f"({e['speedup_with_compile']:.1f}x with compile)",
        )
    )
    return rows


def _curvature(r: dict) -> list[tuple]:
    c = r.get("c")
    rows = [
        (
            "JAX (`jax.grad`)",
            "one Hessian-vector product against one gradient (MLP)",
            f"{r['b']['hvp_s'] * 1e3:.2f} ms",
            f"{r['b']['grad_s'] * 1e3:.2f} ms",
            f"ratio {r['b']['ratio']:.1f}",
        )
    ]
    if c:
        for name, label in (("trace", "Hessian trace"), ("top", "top eigenvalue")):
            seconds, error = c["pyhessian"][name][:2]
            ours = c[name]
            rows.append(
                (
                    "PyHessian (PyTorch)",
                    f"{label} of an MLP at PyHessian's accuracy ({error:.1e})",
                    f"{ours['seconds'] * 1e3:.1f} ms ({ours['matvecs']} matvecs, "
                    f"error {ours['median_error']:.1e})",
                    f"{seconds * 1e3:.0f} ms",
                    f"{seconds / ours['seconds']:.0f}x faster",
                )
            )
    return rows


def _frameworks(r: dict) -> list[tuple]:
    against = {
        "JAX": "JAX (nested `jax.grad`)",
        "PyTorch": "PyTorch (nested `torch.autograd.grad`)",
    }
    rows = []
    for problem, row in r["accuracy"].items():
        ours = "{}/{}".format(*row["calculax"])
        for name, label in against.items():
            if name in row:
                note = "PyTorch keeps subnormal inputs" if name == "PyTorch" else ""
                rows.append(
                    (
                        label,
                        f"{problem}, right/representable at float32(10^k), k = -45..38",
                        ours,
                        "{}/{}".format(*row[name]),
                        note,
                    )
                )
    for case, row in r["entropy"].items():
        truth = row["truth"]
        for lib in ("TFP", "numpyro"):
            error = abs(row[lib] - truth) / abs(truth)
            ours = abs(row[f"calculax ({lib} object)"] - truth) / abs(truth)
            rows.append(
                (
                    f"{lib} (`.entropy()`)",
                    f"entropy of {case}, float64, relative error",
                    f"{ours:.1e}",
                    f"{error:.1e} (returns {row[lib]:.10g})",
                    "",
                )
            )
    return rows


TABLES = {
    "stable_overhead": _stable_overhead,
    "derivatives": _derivatives,
    "entropy": _entropy,
    "ode": _ode,
    "curvature": _curvature,
    "frameworks": _frameworks,
}


def table(folder: Path = RESULTS) -> str:
    """The Markdown comparison tables from the newest results in ``folder``.

    One table per benchmark, headed by the command that regenerates it.
    """
    header = [
        "| against | measured | calculax | alternative | result |",
        "|---|---|---|---|---|",
    ]
    parts = []
    for name, rows in TABLES.items():
        record = newest(name, folder)
        parts.append(f"### `{name}`\n\nRegenerate: `{COMMANDS[name]}`\n")
        if record is None:
            parts.append("No results yet: run the command above.\n")
            continue
        lines = header + ["| " + " | ".join(row) + " |" for row in rows(record)]
        parts.append("\n".join(lines) + "\n")
    return "\n".join(parts)


if __name__ == "__main__":
    print(table(Path(sys.argv[1]) if len(sys.argv) > 1 else RESULTS))
