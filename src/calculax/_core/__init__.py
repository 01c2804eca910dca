"""calculax's private shared layer: what several public packages need.

Imports flow one way: this layer imports no public calculax package, and every
public package may import it. It holds the result model (:mod:`.results`), argument
checks (:mod:`.validate`) and, as they move here, the jaxpr machinery, tolerances,
finite differences and plotting that several packages share.
"""
