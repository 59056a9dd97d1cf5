"""Auto-generated computer names in the seed's style ("einstein")."""

from __future__ import annotations

import random
from collections.abc import Container

SCIENTISTS = (
    "einstein",
    "curie",
    "newton",
    "darwin",
    "tesla",
    "lovelace",
    "turing",
    "hopper",
    "noether",
    "feynman",
    "bohr",
    "planck",
    "galileo",
    "kepler",
    "faraday",
    "maxwell",
    "pasteur",
    "hawking",
    "sagan",
    "franklin",
    "meitner",
    "fermi",
    "dirac",
    "euler",
    "gauss",
    "riemann",
    "hilbert",
    "shannon",
    "knuth",
    "dijkstra",
    "ritchie",
    "thompson",
    "torvalds",
    "hamilton",
    "johnson",
    "goodall",
    "mendel",
    "hubble",
    "heisenberg",
    "schrodinger",
    "pauli",
    "boltzmann",
    "kelvin",
    "volta",
    "ampere",
    "ohm",
    "hertz",
    "raman",
    "ramanujan",
    "chandrasekhar",
    "yalow",
    "mcclintock",
    "carson",
    "banneker",
    "archimedes",
    "pythagoras",
    "euclid",
    "hypatia",
    "copernicus",
    "brahe",
    "lamarr",
    "babbage",
    "liskov",
    "lamport",
    "hoare",
    "backus",
    "mccarthy",
    "minsky",
    "wozniak",
)


def pick_name(taken: Container[str], rng: random.Random | None = None) -> str:
    """A free scientist name; once all are used, numbered ones ("curie-2")."""
    rng = rng or random.Random()
    names = list(SCIENTISTS)
    rng.shuffle(names)
    for name in names:
        if name not in taken:
            return name
    suffix = 2
    while True:
        for name in names:
            candidate = f"{name}-{suffix}"
            if candidate not in taken:
                return candidate
        suffix += 1
