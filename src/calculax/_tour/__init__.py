"""The ``calculax tour``: worked problems, naive JAX against calculax."""

from ._run import CHAPTERS as CHAPTERS
from ._run import run as run
