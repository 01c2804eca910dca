r"""The 21-point Gauss-Kronrod rule on a batch of intervals, with QUADPACK's error.

On :math:`[a, b]` with half-width :math:`h` the rule gives the Kronrod sum
:math:`K = h\sum_k w^K_k G(c + h\xi_k)` and the embedded 10-point Gauss sum
:math:`G_{10}`; the error estimate is QUADPACK's (Piessens et al. 1983, ``qk21``)

.. math::

    E = \rho\,\min\Big(1, \big(200\,|K - G_{10}|/\rho\big)^{3/2}\Big), \qquad
    \rho = h\sum_k w^K_k\,\big|G_k - K/(2h)\big|,

floored at the rounding level :math:`50\epsilon\,h\sum_k w^K_k|G_k|` plus the
rounding of :math:`e^{\ell}` for the log-weights :math:`\ell` the integrand is
built from (:math:`\epsilon|\ell|` relative each). A node where the integrand is
``nan`` or ``inf`` is reported, never read as ``0``.

References:
    Piessens, R., de Doncker-Kapenga, E., Ueberhuber, C. W. & Kahaner, D. K. (1983),
    *QUADPACK: A Subroutine Package for Automatic Integration*, Springer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

__all__ = ["NODES", "RuleOut", "gauss_kronrod"]

_XK = (
    0.9956571630258081,
    0.9739065285171717,
    0.9301574913557082,
    0.8650633666889845,
    0.7808177265864169,
    0.6794095682990244,
    0.5627571346686047,
    0.4333953941292472,
    0.2943928627014602,
    0.14887433898163122,
)
_WK = (
    0.011694638867371874,
    0.032558162307964725,
    0.054755896574351995,
    0.07503967481091996,
    0.0931254545836976,
    0.10938715880229764,
    0.12349197626206584,
    0.13470921731147334,
    0.14277593857706009,
    0.14773910490133849,
)
_WK_CENTRE = 0.1494455540029169
_WG = (0.06667134430868814, 0.1494513491505806, 0.21908636251598204,
       0.26926671930999635, 0.29552422471475287)  # fmt: skip

NODES = np.concatenate([-np.asarray(_XK), [0.0], np.asarray(_XK)[::-1]])
_KRONROD = np.concatenate([np.asarray(_WK), [_WK_CENTRE], np.asarray(_WK)[::-1]])
# Gauss nodes are the odd-indexed Kronrod nodes (1, 3, ..., 19).
_GAUSS = np.zeros(21)
_GAUSS[1:20:2] = np.concatenate([np.asarray(_WG), np.asarray(_WG)[::-1]])


class RuleOut(NamedTuple):
    """The rule on each interval: value, error, rounding floor and failure flags."""

    value: Any  # (n, m)
    error: Any  # (n, m)
    floor: Any  # (n, m) the rounding level of value
    nan: Any  # (n,) a nan at some node
    inf: Any  # (n,) an infinite value at some node
    zero: Any  # (n,) every node exactly zero


def _displaced(xp, t, t_real, ell, phi):
    """Values at the nominal nodes ``t`` from those at the realised ``t_real``.

    Near a finite end the rounding of ``x`` moves a node by up to ``1e-6`` in ``t``
    (see :mod:`._maps`); left alone, that jitter is noise the Gauss-Kronrod
    difference reads as error that no bisection removes. A first-order shift
    along the slope of ``ell`` and ``phi``, from neighbouring nodes at their
    realised positions, puts each value back at its node.
    """
    shift = t - t_real
    moved = xp.any(shift != 0)

    def slope(f):
        df = xp.concatenate(
            [f[:, 1:2] - f[:, 0:1], f[:, 2:] - f[:, :-2], f[:, -1:] - f[:, -2:-1]], 1
        )
        dt = xp.concatenate(
            [
                t_real[:, 1:2] - t_real[:, 0:1],
                t_real[:, 2:] - t_real[:, :-2],
                t_real[:, -1:] - t_real[:, -2:-1],
            ],
            1,
        )
        if f.ndim == 3:
            dt = dt[..., None]
        ok = (dt != 0) & xp.isfinite(df)
        return xp.where(ok, df / xp.where(dt != 0, dt, 1.0), 0.0)

    finite = xp.isfinite(ell)
    ell_fixed = xp.where(finite, ell + slope(xp.where(finite, ell, 0.0)) * shift, ell)
    phi_fixed = phi + slope(phi) * shift[..., None]
    phi_fixed = xp.where(xp.isfinite(phi_fixed), phi_fixed, phi)
    return xp.where(moved, ell_fixed, ell), xp.where(moved, phi_fixed, phi)


def gauss_kronrod(xp, mapped: Callable, lo, hi, piece) -> RuleOut:
    """The rule on intervals ``[lo_i, hi_i]`` (shape ``(n,)``) of pieces ``piece_i``.

    ``mapped(t, k) -> (ell, phi, t_realised)`` on arrays (``t``, ``k`` of one shape
    ``s``, ``ell`` of shape ``s``, ``phi`` of shape ``s + (m,)``): the integrand is
    ``exp(ell) * phi``; ``ell = -inf`` is a zero. ``xp`` is NumPy or jax.numpy.
    Zero-width intervals contribute nothing and raise no flag.
    """
    dtype = lo.dtype
    half = 0.5 * (hi - lo)
    centre = 0.5 * (hi + lo)
    t = centre[:, None] + half[:, None] * xp.asarray(NODES, dtype)
    k = xp.broadcast_to(piece[:, None], t.shape)
    ell, phi, t_real = mapped(t, k)  # (n, 21), (n, 21, m), (n, 21)
    ell, phi = _displaced(xp, t, t_real, ell, phi)
    live = (half > 0)[:, None]
    ell = xp.where(live, ell, -xp.inf)
    finite_ell = xp.where(xp.isfinite(ell), ell, 0.0)
    weight = xp.where(ell == -xp.inf, 0.0, xp.exp(finite_ell))
    weight = xp.where(ell == xp.inf, xp.inf, weight)
    g = xp.where((weight == 0)[..., None], 0.0, weight[..., None] * phi)
    nan = xp.any(xp.isnan(g), axis=(1, 2)) | xp.any(xp.isnan(ell), axis=1)
    inf = xp.any(xp.isinf(g), axis=(1, 2))
    zero = xp.all(g == 0, axis=(1, 2))
    wk = xp.asarray(_KRONROD, dtype)[None, :, None]
    wg = xp.asarray(_GAUSS, dtype)[None, :, None]
    h = xp.abs(half)[:, None]
    kronrod = h * xp.sum(wk * g, axis=1)
    gauss = h * xp.sum(wg * g, axis=1)
    mean = xp.sum(wk * g, axis=1, keepdims=True) / 2
    absolute = h * xp.sum(wk * xp.abs(g), axis=1)
    spread = h * xp.sum(wk * xp.abs(g - mean), axis=1)
    raw = xp.abs(kronrod - gauss)
    safe_spread = xp.where(spread > 0, spread, 1.0)
    ratio = 200 * raw / safe_spread
    error = xp.where(
        (spread > 0) & (raw > 0),
        spread * xp.minimum(1.0, ratio * xp.sqrt(ratio)),
        raw,
    )
    eps = float(np.finfo(dtype).eps)
    rounding = h * xp.sum(wk * xp.abs(g) * xp.abs(finite_ell)[..., None], axis=1)
    # The exp rounding is independent from node to node: a quarter of its sum
    # bounds the sum's error with a margin (its expected size is the sum over
    # the square root of the number of nodes, about 30 for 1000 nodes).
    floor = 50 * eps * absolute + 0.25 * eps * rounding
    error = xp.maximum(error, floor)
    return RuleOut(kronrod, error, floor, nan, inf, zero)
