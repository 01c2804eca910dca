"""Method objects for ``trace``, ``diagonal`` and ``frobenius_norm`` (``method=``)."""

from ._method import AbstractMethod as AbstractMethod
from ._method import Auto as Auto
from ._method import Hutchinson as Hutchinson
from ._method import HutchPlusPlus as HutchPlusPlus
from ._method import XDiag as XDiag
from ._method import XNysTrace as XNysTrace
from ._method import XTrace as XTrace

__all__ = [
    "AbstractMethod",
    "Auto",
    "HutchPlusPlus",
    "Hutchinson",
    "XDiag",
    "XNysTrace",
    "XTrace",
]
