"""The hand-batched loop and the batch-wide gate of ``calculax.ode._ensemble``."""

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from calculax.ode._ensemble import any_member, while_loop_until_all_done


def _halvings(x, scale):
    """Halve x until below 1, counting; the identity once done."""

    def going(c):
        return c[0] >= 1

    def body(c):
        on = going(c)
        return jnp.where(on, c[0] / scale, c[0]), c[1] + on.astype(jnp.int32)

    return going, body, (x, jnp.asarray(0, jnp.int32))


def test_batched_loop_equals_the_plain_loop_member_by_member():
    xs = jnp.array([0.5, 3.0, 100.0, 1e6])
    scales = jnp.array([2.0, 2.0, 3.0, 10.0])  # closed over: batched in the loop

    def ours(x, scale):
        return while_loop_until_all_done(*_halvings(x, scale))

    def plain(x, scale):
        return lax.while_loop(*_halvings(x, scale))

    got = jax.jit(jax.vmap(ours))(xs, scales)
    want = jax.jit(jax.vmap(plain))(xs, scales)
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], [0, 2, 5, 7])
    np.testing.assert_array_equal(got[1], want[1])
    # Unbatched, and a batch of one member's values against the plain loop.
    single = jax.jit(ours)(xs[2], scales[2])
    assert float(single[0]) == float(want[0][2]) and int(single[1]) == 5


def test_batched_loop_is_differentiable_in_forward_mode():
    def final(x, scale):
        return while_loop_until_all_done(*_halvings(x, scale))[0]

    # x / scale**n with n fixed near the point: d/dx = scale**-n.
    d = jax.jit(jax.vmap(jax.jacfwd(final)))(
        jnp.array([3.0, 100.0]), jnp.array([2.0, 3.0])
    )
    np.testing.assert_allclose(d, [1 / 4, 1 / 243], rtol=1e-15)
    jac = jax.jit(jax.jacfwd(final, argnums=(0, 1)))(100.0, 3.0)
    np.testing.assert_allclose(jac, [1 / 243, -5 * 100.0 / 3.0**6], rtol=1e-14)


def test_any_member_is_the_flag_alone_and_the_batch_wide_any_under_vmap():
    assert bool(any_member(jnp.asarray(True)))
    assert not bool(any_member(jnp.asarray(False)))
    flags = jnp.array([False, False, True])
    np.testing.assert_array_equal(jax.vmap(any_member)(flags), [True] * 3)
    np.testing.assert_array_equal(jax.vmap(any_member)(jnp.zeros(3, bool)), [False] * 3)
