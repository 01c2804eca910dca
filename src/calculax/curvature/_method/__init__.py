"""Trace-family estimation methods, one per module (see ``_base`` for the contract)."""

from ._auto import Auto as Auto
from ._base import AbstractMethod as AbstractMethod
from ._base import Exact as Exact
from ._hutchinson import Hutchinson as Hutchinson
from ._hutchpp import HutchPlusPlus as HutchPlusPlus
from ._xdiag import XDiag as XDiag
from ._xnystrace import XNysTrace as XNysTrace
from ._xtrace import XTrace as XTrace
