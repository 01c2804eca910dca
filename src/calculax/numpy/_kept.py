"""The JAX names that ``calculax.numpy`` takes over unchanged, and why each is safe.

``calculax.numpy`` and its subpackages are drop-in replacements: every public name of
``jax.numpy``, ``jax.numpy.linalg``, ``jax.scipy.special`` and ``jax.nn`` is present.
Those with a derivative rule of calculax's own are defined in the package; every other
name is JAX's own object, looked up lazily (``__getattr__``), for one of these reasons:

``NO_DERIVATIVE``
    dtypes, constants, array creation, integer or boolean results, piecewise-constant
    functions (``floor``, ``sign``, ...): nothing to differentiate, or a derivative
    that is exactly zero.
``LINEAR``
    linear or piecewise-linear in the differentiated inputs (sums, reshapes, indexing,
    selections, ``max``, ``clip``, ``dot``, ``fft``, ...), or multilinear
    (``multiply``, ``matmul``, ``einsum``): the derivative is the same kind of map
    applied to the tangents, so JAX's rule forms no quotient, square or exponential
    that could leave the range before the result does, and every derivative of order
    two and higher is zero or a product of the inputs.
``SMOOTH``
    smooth functions whose JAX rules are already stable at every order; each is swept
    against mpmath in forward and reverse mode (``tests/test_numpy_namespace.py``,
    ``tests/catalog.py``).
``NOT_COVERED``
    JAX's function and JAX's derivative, not checked by calculax: matrix
    decompositions and solves (derivatives undefined or ill-conditioned at repeated
    eigenvalues and singular matrices; ``linalg.matrix_function`` is calculax's
    stable route), special functions of several parameters, and helpers that call a
    user's function (whose derivatives are that function's).

The lists are checked against the installed JAX by ``tests/test_numpy_namespace.py``:
a name JAX adds is reported there until it is classified.
"""

from __future__ import annotations

import importlib

__all__ = ["KEPT", "kept_attribute", "lazy_namespace", "public_names"]


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


_NUMPY_NO_DERIVATIVE = _names(
    """
    ComplexWarning all allclose any arange argmax argmin argpartition argsort argwhere
    array_equal array_equiv array_repr array_str bartlett bfloat16 bincount
    bitwise_and bitwise_count bitwise_invert bitwise_left_shift bitwise_not
    bitwise_or bitwise_right_shift bitwise_xor blackman bool bool_ broadcast_shapes
    c_ can_cast cdouble ceil character complex128 complex64 complex_ complexfloating
    count_nonzero csingle diag_indices diag_indices_from digitize double dtype e
    empty empty_like equal euler_gamma eye finfo flatnonzero flexible float16 float32
    float4_e2m1fn float64 float6_e2m3fn float6_e3m2fn float8_e3m4 float8_e4m3
    float8_e4m3b11fnuz float8_e4m3fn float8_e4m3fnuz float8_e5m2 float8_e5m2fnuz
    float8_e8m0fnu float_ floating floor floor_divide from_dlpack frombuffer
    fromfile fromfunction fromiter frompyfunc fromstring gcd generic
    get_printoptions greater greater_equal hamming hanning heaviside histogram
    histogram2d histogram_bin_edges histogramdd identity iinfo index_exp indices
    inexact inf int1 int16 int2 int32 int4 int64 int8 int_ integer intersect1d
    invert isclose iscomplex iscomplexobj isdtype isfinite isin isinf isnan isneginf
    isposinf isreal isrealobj isscalar issubdtype iterable ix_ kaiser lcm left_shift
    less less_equal lexsort load logical_and logical_not logical_or logical_xor
    mask_indices mgrid nan nanargmax nanargmin ndarray ndim newaxis nextafter nonzero
    not_equal number object_ ogrid ones packbits pi printoptions promote_types
    r_ ravel_multi_index result_type right_shift rint round around s_ save savez
    searchsorted set_printoptions setdiff1d setxor1d shape sign signbit
    signedinteger single size spacing tri tril_indices tril_indices_from
    triu_indices triu_indices_from trunc ufunc uint uint1 uint16 uint2 uint32 uint4
    uint64 uint8 union1d unique unique_all unique_counts unique_inverse
    unique_values unpackbits unravel_index unsignedinteger zeros
    """
)

_NUMPY_LINEAR = _names(
    """
    add amax amin append array asarray astype atleast_1d atleast_2d atleast_3d
    block broadcast_arrays broadcast_to choose clip column_stack compress concat
    concatenate conj conjugate convolve copy copysign correlate cross cumprod cumsum
    cumulative_prod cumulative_sum deg2rad degrees delete diag diagflat diagonal
    diff divmod dot dsplit dstack ediff1d einsum einsum_path expand_dims extract fft
    cov fill_diagonal flip fliplr flipud fmax fmin fmod frexp full full_like gradient
    hsplit hstack imag inner insert interp kron ldexp linspace
    matmul matrix_transpose matvec max maximum mean median meshgrid min minimum mod modf
    moveaxis multiply nan_to_num nancumprod nancumsum nanmax nanmean nanmedian nanmin
    nanpercentile nanprod nanquantile nansum negative ones_like outer pad partition
    percentile permute_dims piecewise place polyadd polyder polyint polymul polysub
    positive prod ptp put put_along_axis quantile rad2deg radians ravel real
    remainder repeat reshape resize roll rollaxis rot90 select sort sort_complex split
    squeeze stack subtract sum swapaxes take take_along_axis tensordot tile trace
    transpose trapezoid tril trim_zeros triu unstack unwrap vander vdot vecdot vecmat
    vsplit vstack where zeros_like array_split
    """
)

_NUMPY_SMOOTH = _names("sin cos tan var nanvar polyval")

_NUMPY_NOT_COVERED = _names(
    "apply_along_axis apply_over_axes average corrcoef geomspace i0 logspace poly "
    "polydiv polyfit roots vectorize"
)

_LINALG_LINEAR = _names(
    "cross diagonal matmul matrix_transpose multi_dot outer tensordot trace vecdot "
    "matrix_power"
)
_LINALG_NO_DERIVATIVE = _names("matrix_rank")
_LINALG_NOT_COVERED = _names(
    "cholesky cond det eig eigh eigvals eigvalsh inv lstsq pinv qr slogdet solve svd "
    "svdvals tensorinv tensorsolve"
)

_SPECIAL_NO_DERIVATIVE = _names("bernoulli comb factorial gammasgn")
_SPECIAL_SMOOTH = _names("erf erfc erfinv ndtr ndtri gamma")
_SPECIAL_NOT_COVERED = _names(
    "bessel_jn beta betainc betaln boxcox boxcox1p dawsn exp1 expi expn fresnel "
    "gammainc gammaincc hyp1f1 hyp2f1 i0 i0e i1 i1e loggamma multigammaln owens_t "
    "poch sici spence sph_harm_y wofz zeta"
)

_NN_NO_DERIVATIVE = _names("one_hot initializers get_scaled_dot_general_config")
_NN_LINEAR = _names(
    "relu relu6 leaky_relu hard_tanh hard_sigmoid hard_silu hard_swish identity "
    "sparse_plus sparse_sigmoid"
)
_NN_NOT_COVERED = _names(
    "dot_product_attention scaled_matmul scaled_dot_general standardize"
)

#: ``{JAX module: {name: reason}}`` for every name calculax takes as it is.
KEPT: dict[str, dict[str, str]] = {
    "jax.numpy": {
        **dict.fromkeys(_NUMPY_NO_DERIVATIVE, "no derivative"),
        **dict.fromkeys(_NUMPY_LINEAR, "linear"),
        **dict.fromkeys(_NUMPY_SMOOTH, "smooth"),
        **dict.fromkeys(_NUMPY_NOT_COVERED, "not covered"),
    },
    "jax.numpy.linalg": {
        **dict.fromkeys(_LINALG_NO_DERIVATIVE, "no derivative"),
        **dict.fromkeys(_LINALG_LINEAR, "linear"),
        **dict.fromkeys(_LINALG_NOT_COVERED, "not covered"),
    },
    "jax.scipy.special": {
        **dict.fromkeys(_SPECIAL_NO_DERIVATIVE, "no derivative"),
        **dict.fromkeys(_SPECIAL_SMOOTH, "smooth"),
        **dict.fromkeys(_SPECIAL_NOT_COVERED, "not covered"),
    },
    "jax.nn": {
        **dict.fromkeys(_NN_NO_DERIVATIVE, "no derivative"),
        **dict.fromkeys(_NN_LINEAR, "linear"),
        **dict.fromkeys(_NN_NOT_COVERED, "not covered"),
    },
}


def public_names(module_name: str) -> list[str]:
    """The public names of an installed JAX module (``dir`` without ``_`` names)."""
    module = importlib.import_module(module_name)
    return sorted(n for n in dir(module) if not n.startswith("_"))


def kept_attribute(module_name: str, package: str, name: str):
    """JAX's ``module_name.name`` for ``package.__getattr__`` (PEP 562).

    Any public name of the JAX module is served, classified or not (a name a newer
    JAX adds is JAX's until calculax classifies it); anything else is an
    ``AttributeError`` naming ``package``.
    """
    if not name.startswith("_"):
        module = importlib.import_module(module_name)
        try:
            return getattr(module, name)
        except AttributeError:
            pass
    raise AttributeError(
        f"module {package!r} has no attribute {name!r} (nor has {module_name})"
    )


def lazy_namespace(module_name: str, package: str, defined: list[str]):
    """``(__getattr__, __dir__)`` for ``package``: its own names first (``defined``),
    then JAX's ``module_name`` (imported when first asked)."""

    def __getattr__(name: str):
        return kept_attribute(module_name, package, name)

    def __dir__() -> list[str]:
        return sorted(set(defined) | set(public_names(module_name)))

    return __getattr__, __dir__
