"""The one result model: statuses, messages, printing and throw=True."""

import equinox as eqx
import jax
import jax.numpy as jnp
import pytest

import calculax
from calculax._core.results import AbstractResult, finish


class _Result(AbstractResult):
    value: jax.Array
    error: jax.Array
    status: object


def _result(x):
    status = calculax.RESULTS.where(
        x > 0, calculax.RESULTS.roundoff, calculax.RESULTS.successful
    )
    return _Result(x, jnp.abs(x) * 1e-3, status)


def test_every_failure_has_a_message_and_ok_codes_are_few():
    results = calculax.RESULTS
    for name in results._name_to_item:
        item = getattr(results, name)
        text = results[item]
        assert (text == "") == (name == "successful")
        assert bool(_Result(0.0, 0.0, item).ok) == (
            name in ("successful", "event_occurred")
        )


def test_concrete_failure_raises_numerical_error_with_the_message():
    bad = _result(jnp.float32(2.0))
    with pytest.raises(calculax.NumericalError, match="quad: Roundoff limits") as info:
        finish(bad, True, "quad")
    assert info.value.result is bad
    assert finish(bad, False, "quad") is bad
    good = _result(jnp.float32(-2.0))
    assert finish(good, True, "quad") is good


def test_traced_failure_raises_when_the_program_runs():
    run = eqx.filter_jit(lambda x: finish(_result(x), True, "quad").value)
    assert float(run(jnp.float32(-1.0))) == -1.0
    with pytest.raises(eqx.EquinoxRuntimeError, match="quad: Roundoff limits"):
        run(jnp.float32(1.0))


def test_results_print_their_numbers_and_batched_messages_count():
    printed = repr(_result(jnp.float32(-0.5)))
    assert printed == "_Result(value=-0.5, error=0.0005, status=successful)"
    batch = jax.vmap(_result)(jnp.arange(-2.0, 3.0))
    assert "status=[successful, successful, successful, roundoff, roundoff]" in repr(
        batch
    )
    assert batch.message.startswith("3 of 5: successful; 2 of 5: Roundoff")
    with pytest.raises(calculax.NumericalError, match="2 of 5: Roundoff"):
        finish(batch, True, "quad")


def test_the_guarantees_page_lists_every_status_with_its_message():
    # docs/guarantees.md is where users look a status up: one row per RESULTS item.
    from pathlib import Path

    page = (Path(__file__).resolve().parents[1] / "docs" / "guarantees.md").read_text()
    results = calculax.RESULTS
    for name in results._name_to_item:
        message = results[getattr(results, name)] or "(none)"
        assert f"| `{name}` |" in page, name
        assert message.replace("|", "/") in page, name
