"""One registry of the closed-form families, keyed by their ``scipy.stats`` name."""

from __future__ import annotations

from . import _beta as _beta_family
from . import _bounded, _gamma, _location_scale, _power
from ._family import Family

REGISTRY: dict[str, Family] = {
    family.name: family
    for module in (_location_scale, _gamma, _beta_family, _power, _bounded)
    for family in module.FAMILIES
}
