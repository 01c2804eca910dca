"""Cold start of one-off ``quad`` and ``entropy`` scripts, against ``import jax``.

Each row is a fresh Python process; rows are interleaved round by round and the
median of ``ROUNDS`` is reported, with the difference to ``python -c "import
jax"`` (the issue's measure) and the SciPy script that answers the same question.

Run ``python benchmarks/cold_start_integrate.py [SRC ...]``: one column per
``src`` directory put on ``PYTHONPATH`` (default: this checkout's ``src``), so the
code before a change and after it are measured in the same run. Writes
``benchmarks/cold_start_integrate.json``.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROUNDS = 3
SCRIPTS = {
    "import jax": "import jax",
    "import calculax": "import calculax",
    "quad": (
        "import jax.numpy as jnp\n"
        "from calculax.integrate import quad\n"
        "print(float(quad(lambda x: jnp.exp(-x * x), -jnp.inf, jnp.inf).value))"
    ),
    "entropy of a log-density": (
        "import jax.numpy as jnp\n"
        "import calculax\n"
        "h = calculax.entropy(lambda x: -0.5 * x * x - 0.5 * jnp.log(2 * jnp.pi),\n"
        "                     support=(-jnp.inf, jnp.inf))\n"
        "print(float(h))"
    ),
    "scipy quad": (
        "import numpy as np\n"
        "from scipy.integrate import quad\n"
        "print(quad(lambda x: np.exp(-x * x), -np.inf, np.inf)[0])"
    ),
    "scipy entropy": (
        "import numpy as np\n"
        "from scipy.integrate import quad\n"
        "p = lambda x: np.exp(-0.5 * x * x) / np.sqrt(2 * np.pi)\n"
        "print(quad(lambda x: -p(x) * np.log(p(x)) if p(x) > 0 else 0.0,"
        " -np.inf, np.inf)[0])"
    ),
}
CALCULAX = ("import calculax", "quad", "entropy of a log-density")


def _run(code: str, src: str | None) -> float:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(Path.home())}
    if src is not None:
        env["PYTHONPATH"] = src
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", code],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - start


def main(srcs: list[str]) -> dict:
    columns = [None] + srcs  # None: no calculax needed (jax, scipy)
    times: dict[tuple[str, str | None], list[float]] = {}
    for _ in range(ROUNDS):
        for name, code in SCRIPTS.items():
            for src in columns:
                if (name in CALCULAX) == (src is None):
                    continue
                times.setdefault((name, src), []).append(_run(code, src))
    jax_time = statistics.median(times[("import jax", None)])
    rows = {}
    print(f"median of {ROUNDS} fresh processes; 'beyond jax' = minus `import jax`")
    for (name, src), values in times.items():
        median = statistics.median(values)
        label = name if src is None else f"{name} [{src}]"
        rows[label] = {"median_s": median, "beyond_jax_s": median - jax_time}
        print(f"  {label:70s} {median:6.2f} s   beyond jax {median - jax_time:+6.2f} s")
    out = Path(__file__).with_suffix(".json")
    out.write_text(json.dumps(rows, indent=2))
    return rows


if __name__ == "__main__":
    main(sys.argv[1:] or [str(Path(__file__).resolve().parents[1] / "src")])
