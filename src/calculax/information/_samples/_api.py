"""``entropy_from_samples``: differential entropy estimated from a sample."""

from __future__ import annotations

from statistics import NormalDist

import equinox as eqx
import jax
import jax.numpy as jnp

from ..._core.results import RESULTS, finish
from ..._core.validate import boolean, in_open_interval, positive_int
from .._entropy import checked_base, rebase
from .._result import EntropyResult
from ._correa import correa
from ._ebrahimi import ebrahimi
from ._knn import BLOCK, kozachenko_leonenko
from ._spacing import default_window
from ._van_es import van_es
from ._vasicek import vasicek

__all__ = ["entropy_from_samples", "SPACING_METHODS", "METHODS"]

SPACING_METHODS = {
    "vasicek": vasicek,
    "van es": van_es,
    "ebrahimi": ebrahimi,
    "correa": correa,
}
METHODS = (*SPACING_METHODS, "knn")


def _samples(x):
    """``x`` as a real float array; complex, bool, non-numeric refused."""
    if isinstance(x, str | bytes):
        raise TypeError(
            f"entropy_from_samples: `x` must be an array of numbers; got {x!r}."
        )
    try:
        x = jnp.asarray(x)
    except (TypeError, ValueError) as error:
        raise TypeError(
            f"entropy_from_samples: `x` must be an array of numbers; got "
            f"{type(x).__name__}."
        ) from error
    if jnp.issubdtype(x.dtype, jnp.complexfloating):
        raise TypeError(
            "entropy_from_samples: `x` must be real; got complex samples (the "
            "entropy of a complex variable is that of its real and imaginary parts "
            "as a 2-D sample: pass jnp.stack([x.real, x.imag], axis=1))."
        )
    if not (
        jnp.issubdtype(x.dtype, jnp.floating) or jnp.issubdtype(x.dtype, jnp.integer)
    ):
        raise TypeError(
            f"entropy_from_samples: `x` must be real numbers; got dtype {x.dtype}."
        )
    return x.astype(jnp.result_type(float, x))


def _fewest(method: str, k: int) -> int:
    """The fewest points an estimate needs: ``k + 1`` for k-NN, 3 for a spacing."""
    return k + 1 if method == "knn" else 3


def _check(x, method: str, window: int | None, k: int):
    if not isinstance(method, str) or method not in METHODS:
        raise ValueError(
            f"entropy_from_samples: `method` must be one of {METHODS} or 'auto'; "
            f"got {method!r}."
        )
    if x.ndim not in (1, 2):
        raise ValueError(
            f"entropy_from_samples: `x` must have shape (n,) or (n, d), got {x.shape}."
        )
    if x.ndim == 2 and x.shape[1] == 0:
        raise ValueError("entropy_from_samples: `x` has shape (n, 0): no variables.")
    n = x.shape[0]
    if method == "knn":
        if not 1 <= k < n:
            raise ValueError(
                f"entropy_from_samples: k-NN needs 1 <= k < n, got k={k} with "
                f"n={n} points; pass more points or a smaller k."
            )
        return None
    if x.ndim != 1:
        raise ValueError(
            f"entropy_from_samples: method {method!r} is one-dimensional but `x` has "
            f"shape {x.shape}; use method='knn' for d > 1."
        )
    fewest = _fewest(method, k)
    if n < fewest:
        raise ValueError(
            f"entropy_from_samples: spacing estimators need n >= {fewest} points; "
            f"got n={n}."
        )
    if window is None:
        # SciPy's default floor(sqrt(n) + 1/2), kept below n/2 (n = 3, 4 give 1).
        return min(default_window(n), (n - 1) // 2)
    if not 1 <= window < n / 2:
        raise ValueError(
            f"entropy_from_samples: spacing estimators need 1 <= window < n/2; got "
            f"window={window} with n={n} points. Pass more points or a smaller "
            "`window`."
        )
    return window


@eqx.filter_jit
def _estimate(x, method: str, m: int | None, k: int, block: int):
    """One estimate; compiled once per (shape, method, window, k, block)."""
    x = eqx.error_if(
        x,
        jnp.any(jnp.isnan(x)),
        "entropy_from_samples: `x` contains nan; drop or impute them first.",
    )
    x = eqx.error_if(
        x,
        jnp.any(jnp.isinf(x)),
        "entropy_from_samples: `x` contains inf; a sample with infinite values has "
        "no finite spacing or neighbour distance: drop them first.",
    )
    if method == "knn":
        points = x[:, None] if x.ndim == 1 else x
        value, eps = kozachenko_leonenko(points, k, block)
        tied = jnp.any(eps == 0)
        message = (
            f"entropy_from_samples: k+1 = {k + 1} or more identical points make a "
            "zero nearest-neighbour distance (ties, e.g. rounded data): the k-NN "
            "estimate would be -inf. Add jitter at the rounding scale or raise k."
        )
    else:
        assert m is not None  # a spacing method always has its window
        value = SPACING_METHODS[method](jnp.sort(x), m)
        tied = ~jnp.isfinite(value)
        message = (
            f"entropy_from_samples: repeated values (ties) make a zero {m}-spacing: "
            f"the {method!r} estimate would be -inf. Add jitter at the rounding "
            "scale, or use a larger `window`."
        )
    return eqx.error_if(value, tied, message)


def _half_sampling(x, method, k, block, key, n_resamples):
    """Delete-d jackknife, d = n/2: spread of estimates on random halves; ``inf``
    where a half is too small for the estimator (the spread is then unknown)."""
    n = x.shape[0]
    half = n // 2
    if half < _fewest(method, k):
        return jnp.asarray(jnp.inf, x.dtype)
    m = None if method == "knn" else default_window(half)
    if m is not None and not 1 <= m < half / 2:
        m = max(1, (half - 1) // 2)

    def one(subkey):
        index = jax.random.permutation(subkey, n)[:half]
        return _estimate(x[index], method, m, k, block)

    estimates = jax.lax.map(one, jax.random.split(key, n_resamples))
    return jnp.std(estimates)


def entropy_from_samples(
    x,
    method: str = "auto",
    *,
    window: int | None = None,
    k: int = 3,
    key: jax.Array | None = None,
    n_resamples: int = 100,
    confidence: float = 0.95,
    base: float | None = None,
    block: int = BLOCK,
    full_output: bool = False,
    throw: bool = True,
):
    r"""Differential entropy estimated from samples ``x``.

    Methods (one file each in ``calculax/information/_samples``, with formula and
    reference): ``"vasicek"``, ``"van es"``, ``"ebrahimi"``, ``"correa"``
    (one-dimensional m-spacing estimators, window ``m = floor(sqrt(n) + 1/2)`` by
    default) and ``"knn"`` (Kozachenko-Leonenko with the
    :math:`\psi(n) - \psi(k)` bias correction, any dimension, exact neighbours in
    blocks). ``"auto"``: ``"van es"`` for ``n <= 10``, ``"ebrahimi"`` for
    ``n <= 1000``, ``"vasicek"`` above (SciPy's choice) in one dimension,
    ``"knn"`` for ``d > 1``.

    With ``full_output=True`` the standard error is estimated by half-sampling
    (delete-d jackknife with :math:`d = n/2`, Shao & Wu 1989: the spread of the
    estimates on ``n_resamples`` random halves, whose variance factor
    :math:`(n-d)/d` is 1; ``inf`` for fewer than 6 points, or ``2(k+1)`` for
    ``"knn"``: no spread can be estimated) and the interval is
    :math:`\hat H \pm z_{(1+c)/2}\,\mathrm{se}`. Resampling with replacement is
    not used because its repeated points are ties, which make every
    spacing and k-NN estimator ``-inf``.

    Args:
        x: samples, shape ``(n,)`` or ``(n, d)``.
        method: see above.
        window: spacing window ``m`` (spacing methods).
        k: neighbour order (``"knn"``).
        key: PRNG key for the half-sampling standard error and interval
            (``None``: ``jax.random.key(0)``, so that the same samples give the
            same error; it is computed only with ``full_output=True`` or a ``key``).
        n_resamples: number of random halves.
        confidence: interval level.
        base: logarithm base (``None``: nats).
        block: query block size of the exact k-NN search (memory
            ``block * n * d`` numbers).
        full_output: return an :class:`EntropyResult` with ``error`` (standard
            error) and ``interval``.
        throw: raise on a non-OK status (the estimators have none today; kept
            for the one result model).

    Returns:
        The estimate (scalar), or an :class:`EntropyResult`.

    Raises:
        TypeError: complex, boolean or non-numeric samples; arguments of the
            wrong type (bools for integers included).
        ValueError: unknown method, wrong shape, too few points for the window or
            ``k``, ``confidence`` outside ``(0, 1)``, ``base`` of 1, 0 or below.
        ValueError: ``nan`` or ``inf`` in ``x``; ties that make the estimate
            ``-inf`` (the message says how to fix it). Under ``jit``: an
            ``equinox.EquinoxRuntimeError`` with the same sentence.

    Example:
        >>> import jax
        >>> from calculax.information import entropy_from_samples
        >>> x = jax.random.normal(jax.random.key(0), (4000,))
        >>> h = entropy_from_samples(x, "ebrahimi")  # truth 1.4189
        >>> print(f"{float(h):.1f}")
        1.4
    """
    x = _samples(x)
    if not isinstance(method, str):
        raise TypeError(
            f"entropy_from_samples: `method` must be a string; got {method!r}."
        )
    if window is not None:
        window = positive_int("entropy_from_samples", "window", window)
    k = positive_int("entropy_from_samples", "k", k)
    n_resamples = positive_int("entropy_from_samples", "n_resamples", n_resamples, 2)
    block = positive_int("entropy_from_samples", "block", block)
    confidence = in_open_interval(
        "entropy_from_samples", "confidence", confidence, 0.0, 1.0
    )
    base = checked_base("entropy_from_samples", base)
    full_output = boolean("entropy_from_samples", "full_output", full_output)
    throw = boolean("entropy_from_samples", "throw", throw)
    if key is not None and not (
        hasattr(key, "dtype")
        and (
            jax.dtypes.issubdtype(key.dtype, jax.dtypes.prng_key)
            or (key.dtype == jnp.uint32 and key.shape == (2,))
        )
    ):
        raise TypeError(
            "entropy_from_samples: `key` must be a JAX PRNG key "
            f"(jax.random.key(seed)); got {key!r}."
        )
    if method == "auto":
        n = x.shape[0]
        one_d = x.ndim == 1
        method = (
            "knn"
            if not one_d
            else ("van es" if n <= 10 else "ebrahimi" if n <= 1000 else "vasicek")
        )
    m = _check(x, method, window, k)
    try:
        value = _estimate(x, method, m, k, block)
    except eqx.EquinoxRuntimeError as failure:
        # A concrete call: the compiled check's own sentence, as the ValueError of
        # bad input (under the user's jit it stays equinox's runtime error).
        sentence = next(
            line.strip()
            for line in str(failure).splitlines()
            if "entropy_from_samples:" in line
        )
        raise ValueError(sentence[sentence.index("entropy_from_samples:") :]) from None
    error = jnp.full_like(value, jnp.nan)
    interval = None
    if key is not None or full_output:
        key = jax.random.key(0) if key is None else key
        error = _half_sampling(x, method, k, block, key, n_resamples)
        # the normal quantile of a Python float, on the host (also under jit)
        z = NormalDist().inv_cdf(0.5 + confidence / 2)
        interval = jnp.stack([value - z * error, value + z * error])
    result = EntropyResult(
        value, error, RESULTS.successful, f"samples: {method}", interval
    )
    result = finish(rebase(result, base), throw, "entropy_from_samples")
    return result if full_output else result.value
