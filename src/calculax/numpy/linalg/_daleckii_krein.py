"""The derivatives of a spectral matrix function as one JAX primitive, at every order.

For Hermitian :math:`A = V \\Lambda V^H` and an element-wise :math:`f`, the
:math:`k`-th Fréchet derivative of :math:`F(A) = V f(\\Lambda) V^H` is
(Daleckii--Krein; Bhatia, Theorem V.3.3 for :math:`k \\le 2`)

.. math::

    D^k F(A)[E_1, \\dots, E_k] = V M V^H, \\quad
    M_{ij} = \\sum_{\\sigma \\in S_k} \\sum_{l_1..l_{k-1}}
    f[\\lambda_i, \\lambda_{l_1}, \\dots, \\lambda_{l_{k-1}}, \\lambda_j]\\,
    \\tilde E_{\\sigma_1, i l_1} \\tilde E_{\\sigma_2, l_1 l_2} \\cdots
    \\tilde E_{\\sigma_k, l_{k-1} j},
    \\quad \\tilde E = V^H E V,

with the divided differences of ``_divided_differences`` (finite and accurate when
eigenvalues coincide). :math:`k = 0` is :math:`F(A)` itself.

Why a primitive. Each formula holds in any eigenbasis, so none of it depends on
eigenvector derivatives, which are infinite at repeated eigenvalues. But a
``custom_jvp`` tangent function does not survive reverse mode: JAX's partial
evaluation inlines a ``custom_jvp`` applied to tangents, and forward-over-reverse
(``jvp`` of ``grad``, ``jax.hessian``) then differentiates the inlined ``eigh`` --
``nan`` at the identity. A primitive is never inlined; its rules are

* JVP: :math:`d\\,D^k F[E] = D^{k+1}F[E_1..E_k, dA] + \\sum_j D^kF[.., dE_j, ..]`,
  the same primitive one order up (so every order is stable);
* transpose (linear in each :math:`E_j`): the cotangent of :math:`E_j` is
  :math:`D^kF[.., G^T, ..]^T` (the form is symmetric under exchanging slots);
* batching: leading batch axes, broadcast.

Cost: :math:`O(k!\\,k\\,n^{k+1})` after one ``eigh``.

References:
    Ju. L. Daleckii and S. G. Krein, "Integration and differentiation of functions
    of Hermitian operators and applications to the theory of perturbations",
    AMS Translations (2) 47 (1965).
    R. Bhatia, *Matrix Analysis*, Springer GTM 169, 1997, Section V.3.
"""

from __future__ import annotations

import functools
import itertools

import jax
import jax.numpy as jnp
from jax.extend.core import Primitive
from jax.interpreters import ad, batching, mlir

from ._divided_differences import divided_difference_tensor

__all__ = ["spectral_derivative"]


def _adjoint(x: jax.Array) -> jax.Array:
    return jnp.conj(jnp.swapaxes(x, -1, -2))


def _strong_product(a: jax.Array, b: jax.Array) -> jax.Array:
    # a * b, but exactly 0 where b is 0 (a zero direction stays 0 against inf).
    return jnp.where(b == 0, jnp.zeros_like(a * b), a * b)


def _chain(differences: jax.Array, factors: list[jax.Array]) -> jax.Array:
    """:math:`\\sum_l D[i, l_1, .., j] E_1[i, l_1] \\cdots E_k[l_{k-1}, j]`."""
    k = len(factors)
    batch = differences.ndim - (k + 1)
    product = differences
    for s, factor in enumerate(factors):
        # factor indexes (axis s, axis s + 1) of the difference tensor.
        shape = (*factor.shape[:-2], *(1,) * s, *factor.shape[-2:], *(1,) * (k - 1 - s))
        product = _strong_product(product, jnp.reshape(factor, shape))
    inner = tuple(range(batch + 1, batch + k))
    return jnp.sum(product, axis=inner) if inner else product


def _impl(a, *directions, f, order):
    eigenvalues, vectors = jnp.linalg.eigh(a, symmetrize_input=False)
    if order == 0:
        values = f(eigenvalues).astype(a.dtype)
        return (vectors * values[..., None, :]) @ _adjoint(vectors)
    differences = divided_difference_tensor(f, eigenvalues, order).astype(a.dtype)
    rotated = [_adjoint(vectors) @ e @ vectors for e in directions]
    inner = sum(
        _chain(differences, [rotated[s] for s in sigma])
        for sigma in itertools.permutations(range(order))
    )
    return vectors @ inner @ _adjoint(vectors)


@functools.lru_cache(maxsize=64)
def _compiled_impl(f, order):
    # Eager calls run compiled (bounded cache: a fresh lambda per call is a new key).
    return jax.jit(functools.partial(_impl, f=f, order=order))


spectral_derivative_p = Primitive("calculax_spectral_derivative")
spectral_derivative_p.def_impl(lambda *args, f, order: _compiled_impl(f, order)(*args))


@spectral_derivative_p.def_abstract_eval
def _abstract_eval(a, *directions, f, order):
    shape = jnp.broadcast_shapes(a.shape, *(e.shape for e in directions))
    return jax.core.ShapedArray(shape, a.dtype)


mlir.register_lowering(
    spectral_derivative_p, mlir.lower_fun(_impl, multiple_results=False)
)


def spectral_derivative(f, a: jax.Array, *directions: jax.Array) -> jax.Array:
    """:math:`D^kF(A)[E_1..E_k]` for Hermitian ``a`` (not checked), ``k = len(E)``."""
    return spectral_derivative_p.bind(a, *directions, f=f, order=len(directions))


def _jvp(primals, tangents, *, f, order):
    a, *directions = primals
    da, *ddirections = tangents
    out = spectral_derivative(f, a, *directions)
    terms = []
    if type(da) is not ad.Zero:
        terms.append(spectral_derivative(f, a, *directions, da))
    for j, d in enumerate(ddirections):
        if type(d) is not ad.Zero:
            replaced = [*directions[:j], d, *directions[j + 1 :]]
            terms.append(spectral_derivative(f, a, *replaced))
    if not terms:
        return out, ad.Zero(jax.typeof(out).to_tangent_aval())
    return out, functools.reduce(jnp.add, terms)


def _transpose(cotangent, a, *directions, f, order) -> list:
    if ad.is_undefined_primal(a):
        raise ValueError("spectral_derivative is not linear in its matrix argument.")
    (j,) = [i for i, d in enumerate(directions) if ad.is_undefined_primal(d)]
    result: list = [None] * (1 + len(directions))
    if type(cotangent) is ad.Zero:
        return result
    replaced = [*directions[:j], jnp.swapaxes(cotangent, -1, -2), *directions[j + 1 :]]
    transposed = jnp.swapaxes(spectral_derivative(f, a, *replaced), -1, -2)
    result[1 + j] = _sum_to_shape(transposed, directions[j].aval.shape)
    return result


def _sum_to_shape(x: jax.Array, shape: tuple[int, ...]) -> jax.Array:
    """Sum ``x`` over the leading axes that were broadcast from size 1 in ``shape``."""
    axes = tuple(i for i, (s, t) in enumerate(zip(shape, x.shape)) if s == 1 != t)
    return jnp.sum(x, axis=axes, keepdims=True) if axes else x


def _batch(arguments, dimensions, *, f, order):
    moved = [
        jnp.expand_dims(x, 0) if d is None else jnp.moveaxis(x, d, 0)
        for x, d in zip(arguments, dimensions)
    ]
    return spectral_derivative_p.bind(*moved, f=f, order=order), 0


ad.primitive_jvps[spectral_derivative_p] = _jvp
ad.primitive_transposes[spectral_derivative_p] = _transpose
batching.primitive_batchers[spectral_derivative_p] = _batch
