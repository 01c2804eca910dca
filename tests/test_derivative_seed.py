"""The seed's tensor question, worked: Z = X @ X @ Y and loss = ||Z||_F.

The 6-index mixed partial against the analytic formula; the loss's 4-index blocks
against the truth (``check_derivative``, f's jaxpr in mpmath) and d2 loss/dY2 against
its closed form; the trace trick against the contraction of the analytic tensor; the
symmetric-matrix option against the symmetrised formula; the tour chapter.
"""

import io

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from calculax._tour import _tensor_derivatives as seed
from calculax.derivatives import check_derivative, derivative
from tests.helpers import eps

X, Y = seed.example_point(np.float64, n=3, p=2)
RTOL = 64 * eps(np.float64)


@pytest.fixture(scope="module")
def tensors():
    """Everything compared below, from one compilation."""

    @jax.jit
    def compute(x, y):
        x_sym = (x + x.T) / 2
        at_sym = seed.analytic_mixed(x_sym, 2)
        return {
            "mixed": derivative(seed.my_formula, argnums=(0, 1))(x, y),
            "formula": seed.analytic_mixed(x, 2),
            "trick": seed.trace_trick(x, y),
            "symmetric": derivative(seed.my_formula, (0, 1), symmetric=(0,))(x_sym, y),
            "symmetrised formula": (at_sym + jnp.swapaxes(at_sym, 2, 3)) / 2,
        }

    return compute(X, Y)


def test_mixed_partial_of_z_is_the_analytic_six_index_tensor(tensors):
    assert tensors["mixed"].shape == (3, 2, 3, 3, 3, 2)
    atol = RTOL * np.max(np.abs(X))
    np.testing.assert_allclose(tensors["mixed"], tensors["formula"], rtol=0, atol=atol)


def test_loss_blocks_against_the_truth_and_the_closed_form():
    x, y = seed.example_point(np.float64)  # 2 x 2: a few seconds of mpmath
    hessian_y = check_derivative(seed.loss, (x, y), order=2, argnums=1)
    assert hessian_y.computed.shape == (2, 2, 2, 2)
    mixed = check_derivative(seed.loss, (x, y), argnums=(1, 0))
    assert mixed.computed.shape == (2, 2, 2, 2)
    # Closed form: L = ||A Y||, A = X X: d2L/dY_ij dY_kl
    #   = (A^T A)_ik delta_jl / L - (A^T A Y)_ij (A^T A Y)_kl / L^3.
    a = x @ x
    gram, loss = a.T @ a, jnp.linalg.norm(a @ y)
    g = gram @ y
    closed = (
        jnp.einsum("ik,jl->ijkl", gram, jnp.eye(2)) / loss
        - jnp.einsum("ij,kl->ijkl", g, g) / loss**3
    )
    np.testing.assert_allclose(hessian_y.computed, closed, rtol=RTOL, atol=RTOL)


def test_trace_trick_is_a_contraction_not_the_mixed_partial(tensors):
    trick, formula = tensors["trick"], tensors["formula"]
    assert trick.shape == Y.shape != formula.shape
    np.testing.assert_allclose(trick, formula.sum(axis=(0, 1, 2, 3)), rtol=RTOL)


def test_symmetric_x_symmetrises_the_mixed_partial(tensors):
    expected = tensors["symmetrised formula"]
    np.testing.assert_allclose(tensors["symmetric"], expected, rtol=0, atol=RTOL)


def test_tour_chapter(tmp_path):
    stream = io.StringIO()
    results = seed.chapter(tmp_path, "float32", stream)
    assert results["mixed_shape"] == (2, 2, 2, 2, 2, 2)
    tolerance = 64 * eps(np.float32)
    for key in ("mixed_error", "symmetric_error", "trick_error"):
        assert results[key] <= tolerance, key
    assert (tmp_path / seed.FIGURE).stat().st_size > 0
    assert "not the mixed partial" in stream.getvalue()
