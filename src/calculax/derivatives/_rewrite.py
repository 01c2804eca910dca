"""Rewriting for ``stabilize``: catastrophic patterns replaced by their stable forms.

A rewrite replaces the value of one equation of ``f``'s jaxpr (the pattern's root) by
a stable expression of the pattern's leaves, in the spirit of Herbie (Panchekha et
al., PLDI 2015): each pattern (``_rewrite_patterns``, listed in
``docs/replaced_functions.md``) is an identity whose right side avoids an
intermediate that overflows, underflows or cancels, and a test shows it reduces the
error against the high-precision truth.

How ``stabilize`` uses them. With ``rewrite=True`` the rewritten program gives the
values and every derivative. Without it the values are those of ``f`` as written,
and the derivatives (every order, forward and reverse) are those of the rewritten
program: ``log(1 + exp(x))`` keeps its value ``inf`` at ``x = 1000`` in float32 but
has the derivative ``sigmoid(1000) = 1`` of ``softplus``, where the chain rule
through ``exp`` and ``log`` gives ``inf / inf``.

One pattern always replaces values too, because it keeps them: JAX's own
``logsumexp``, ``log|sum(exp(x - c))| + c`` with ``c`` under ``stop_gradient``,
whose Hessian forms ``p (1 - p)`` as ``p - p**2`` (``0`` where ``p`` rounds to 1),
becomes ``special.logsumexp``.

Squares are matched as ``integer_pow(x, 2)``, ``square(x)`` or ``x * x``; constants
as literals or concrete constants of the trace (through ``broadcast_in_dim`` and
``convert_element_type``). Intermediate equations are still evaluated (XLA removes
them when nothing else uses them).

Written by hand: no JAX-ecosystem library rewrites jaxprs for accuracy.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax.extend import core

__all__ = ["Rewrite", "Graph", "find_rewrites", "has_rewrites", "sum_of_squares_rule"]


@dataclasses.dataclass(frozen=True)
class Rewrite:
    """The root equation's value is ``function(*leaves)``; ``name`` is the rule."""

    name: str
    function: Callable
    leaves: tuple
    aval: Any = None  # the root's abstract value (dtype and weak type to return)
    opt_in: bool = True  # False: the values are kept (applied by stabilize always)


# Operations that change neither values nor the meaning of a scalar constant.
_PASS_THROUGH = ("convert_element_type", "copy", "copy_p")


class Graph:
    """Who produces each variable of a jaxpr, and which atoms are known constants."""

    def __init__(self, jaxpr: core.Jaxpr, consts: Sequence):
        self.producer = {v: e for e in jaxpr.eqns for v in e.outvars}
        self.constants = {
            var: np.asarray(value)
            for var, value in zip(jaxpr.constvars, consts)
            if isinstance(value, (np.ndarray, np.generic))
            or (isinstance(value, jax.Array) and not isinstance(value, jax.core.Tracer))
        }

    def resolve(self, atom):
        """``atom`` behind conversions that keep its dtype (weak-type changes) and
        copies."""
        while not isinstance(atom, core.Literal) and atom is not None:
            eqn = self.producer.get(atom)
            if eqn is None or eqn.primitive.name not in _PASS_THROUGH:
                break
            inner = eqn.invars[0]
            if isinstance(inner, core.Literal) or inner.aval.dtype != atom.aval.dtype:
                break
            atom = inner
        return atom

    def op(self, atom, *names: str):
        """The equation that produced ``atom`` (behind same-dtype conversions) if its
        primitive is one of ``names``."""
        atom = self.resolve(atom)
        if isinstance(atom, core.Literal) or atom is None:
            return None
        eqn = self.producer.get(atom)
        return eqn if eqn is not None and eqn.primitive.name in names else None

    def same(self, a, b, depth: int = 8) -> bool:
        """Whether ``a`` and ``b`` are the same value: one variable, or equations
        with the same primitive, parameters and (recursively) operands (user code
        often writes ``exp(x)`` twice)."""
        a, b = self.resolve(a), self.resolve(b)
        if a is b:
            return True
        if isinstance(a, core.Literal) or isinstance(b, core.Literal):
            known_a, known_b = self.value(a), self.value(b)
            return (
                known_a is not None
                and known_b is not None
                and known_a.shape == known_b.shape
                and bool(np.all(known_a == known_b))
            )
        if depth == 0 or a is None or b is None:
            return False
        ea, eb = self.producer.get(a), self.producer.get(b)
        if ea is None or eb is None or ea.primitive is not eb.primitive:
            return False
        if ea.outvars.index(a) != eb.outvars.index(b) or len(ea.invars) != len(
            eb.invars
        ):
            return False
        if ea.primitive.name in ("pjit", "jit", "custom_jvp_call", "custom_vjp_call"):
            return False
        try:
            if ea.params != eb.params:
                return False
        except Exception:  # parameters without a well-defined equality
            return False
        return all(self.same(x, y, depth - 1) for x, y in zip(ea.invars, eb.invars))

    def value(self, atom) -> np.ndarray | None:
        """The value of a constant ``atom`` (literal, concrete constant, or one of
        those converted or broadcast), else ``None``."""
        if atom is None:
            return None
        if isinstance(atom, core.Literal):
            return np.asarray(atom.val)
        known = self.constants.get(atom)
        if known is not None:
            return known
        eqn = self.op(atom, "broadcast_in_dim", *_PASS_THROUGH)
        if eqn is None:
            return None
        inner = self.value(eqn.invars[0])
        if inner is None or inner.size != 1:
            return None
        return inner.reshape(())

    def scalar(self, atom) -> float | None:
        """The value of ``atom`` if it is a real constant with one value, else None."""
        known = self.value(atom)
        if known is None or known.size == 0 or np.iscomplexobj(known):
            return None
        flat = known.ravel()
        if not np.all(flat == flat[0]):
            return None
        return float(flat[0])

    def is_constant(self, atom, value: float) -> bool:
        return self.scalar(atom) == value

    def power_of(self, atom) -> tuple[Any, int] | None:
        """``(x, n)`` for ``atom = integer_pow(x, n)``, ``(x, 2)`` for ``square(x)``."""
        eqn = self.op(atom, "integer_pow", "square")
        if eqn is None:
            return None
        n = eqn.params["y"] if eqn.primitive.name == "integer_pow" else 2
        return eqn.invars[0], int(n)

    def square_root_of(self, atom):
        """``x`` when ``atom`` is ``x**2``, ``square(x)`` or ``x * x``; else None."""
        power = self.power_of(atom)
        if power is not None:
            return power[0] if power[1] == 2 else None
        eqn = self.op(atom, "mul")
        if eqn is None or not self.same(eqn.invars[0], eqn.invars[1]):
            return None
        return eqn.invars[0]

    def other_than(self, eqn, value: float):
        """``x`` of the binary ``eqn`` whose other operand is the constant ``value``."""
        a, b = eqn.invars
        if self.is_constant(a, value) and self.scalar(b) is None:
            return b
        if self.is_constant(b, value) and self.scalar(a) is None:
            return a
        return None

    def other_than_one(self, eqn):
        """``x`` of ``1 + x`` / ``x + 1`` (an ``add`` equation); else None."""
        return self.other_than(eqn, 1.0)

    def split_constant(self, eqn):
        """``(c, x)`` for a binary ``eqn`` with one constant operand ``c``."""
        a, b = eqn.invars
        ca, cb = self.scalar(a), self.scalar(b)
        if ca is not None and cb is None:
            return ca, b
        if cb is not None and ca is None:
            return cb, a
        return None

    def _root_of(self, atom) -> tuple[Any, float] | None:
        """``(x, p)`` for ``sqrt(x)`` (1/2), ``cbrt(x)`` (1/3), ``rsqrt(x)`` (-1/2) and
        ``pow(x, p)`` with a constant ``p``."""
        eqn = self.op(atom, "sqrt", "cbrt", "rsqrt", "pow")
        if eqn is None:
            return None
        name = eqn.primitive.name
        if name == "pow":
            p = self.scalar(eqn.invars[1])
            return None if p is None else (eqn.invars[0], p)
        return eqn.invars[0], {"sqrt": 0.5, "cbrt": 1 / 3, "rsqrt": -0.5}[name]

    def monomial(
        self, atom, depth: int = 6, leaves: tuple = ()
    ) -> tuple[float, dict] | None:
        """``(c, {base: power})`` with ``atom = c * prod(base**power)`` from ``mul``,
        ``div``, ``neg``, ``integer_pow``, ``square``, ``sqrt``, ``cbrt``,
        ``rsqrt``, ``pow`` by a constant, and constants; a leaf (also any atom of
        ``leaves``) is ``(1, {atom: 1})``. Powers are ints, or floats for roots."""
        constant = self.scalar(atom)
        if constant is not None:
            return constant, {}
        atom = self.resolve(atom)
        if depth == 0 or not _is_real(atom) or any(self.same(atom, v) for v in leaves):
            return 1.0, {atom: 1}
        power = self.power_of(atom) or self._root_of(atom)
        if power is not None:
            inner = self.monomial(power[0], depth - 1, leaves)
            if inner is None:
                return None
            c, bases = inner
            if c < 0 and power[1] != int(power[1]):
                return None
            return c ** power[1], {b: _tidy(p * power[1]) for b, p in bases.items()}
        eqn = self.op(atom, "mul", "div", "neg")
        if eqn is None:
            return 1.0, {atom: 1}
        if eqn.primitive.name == "neg":
            inner = self.monomial(eqn.invars[0], depth - 1, leaves)
            return None if inner is None else (-inner[0], inner[1])
        left = self.monomial(eqn.invars[0], depth - 1, leaves)
        right = self.monomial(eqn.invars[1], depth - 1, leaves)
        if left is None or right is None:
            return None
        sign = 1 if eqn.primitive.name == "mul" else -1
        if sign < 0 and right[0] == 0:
            return None
        bases = dict(left[1])
        for base, p in right[1].items():
            base = next((b for b in bases if self.same(b, base)), base)
            bases[base] = _tidy(bases.get(base, 0) + sign * p)
        bases = {b: p for b, p in bases.items() if p != 0}
        c = left[0] * right[0] if sign > 0 else left[0] / right[0]
        return c, bases


def _tidy(p: float) -> float | int:
    # Powers that are whole numbers (sqrt(x) * sqrt(x)) become ints again.
    return int(round(p)) if abs(p - round(p)) < 1e-12 else p


def _is_real(atom) -> bool:
    return jnp.issubdtype(atom.aval.dtype, jnp.floating)


def sum_of_squares_rule(graph: Graph, eqn) -> Rewrite | None:
    """The rewrite of ``sqrt(sum(x**2, axes))`` (the equation ``eqn`` is the
    ``sqrt``) for a real ``x``: ``calculax.numpy.linalg.norm`` over ``axes``."""
    from ._rewrite_patterns import sum_of_squares

    return sum_of_squares(graph, eqn)


def find_rewrites(
    jaxpr: core.Jaxpr, consts: Sequence, opt_in: bool
) -> dict[int, Rewrite]:
    """The rewrites of ``jaxpr``'s floating-point equations, keyed by ``id(eqn)``:
    those that keep the values, and with ``opt_in`` those that change them."""
    from ._rewrite_patterns import KEEPING_VALUES, PATTERNS

    graph = Graph(jaxpr, consts)
    found = {}
    for eqn in jaxpr.eqns:
        if not eqn.outvars or not _is_real(eqn.outvars[0]):
            continue
        name = eqn.primitive.name
        rewrite = None
        for pattern in KEEPING_VALUES.get(name, ()):
            rewrite = pattern(graph, eqn)
            if rewrite is not None:
                break
        if rewrite is None and opt_in:
            for pattern in PATTERNS.get(name, ()):
                rewrite = pattern(graph, eqn)
                if rewrite is not None:
                    break
        if rewrite is not None:
            found[id(eqn)] = dataclasses.replace(rewrite, aval=eqn.outvars[0].aval)
    return found


def _sub_jaxprs(value):
    # The (jaxpr, consts) pairs inside an equation parameter (calls, control flow).
    if isinstance(value, core.ClosedJaxpr):
        yield value.jaxpr, value.consts
    elif isinstance(value, core.Jaxpr):
        yield value, ()
    elif isinstance(value, (tuple, list)):
        for item in value:
            yield from _sub_jaxprs(item)


def has_rewrites(
    jaxpr: core.Jaxpr, consts: Sequence, replaced: Callable[[core.Jaxpr], bool]
) -> bool:
    """Whether any value-changing rewrite applies in ``jaxpr`` or a jaxpr inside it
    (``stabilize`` then differentiates the rewritten program; else the program
    itself, which is the same). ``replaced(inner)``: a call replaced whole (its
    body is never evaluated, so its patterns do not count)."""
    found = find_rewrites(jaxpr, consts, True)
    if any(rule.opt_in for rule in found.values()):
        return True
    return any(
        has_rewrites(inner, inner_consts, replaced)
        for eqn in jaxpr.eqns
        for value in eqn.params.values()
        for inner, inner_consts in _sub_jaxprs(value)
        if not replaced(inner)
    )
