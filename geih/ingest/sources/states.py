"""Brazilian states: IBGE code, two-letter abbreviation (UF) and name, and lookups between them."""

from __future__ import annotations

import unicodedata

import numpy as np
import pandas as pd

# IBGE state code -> (UF, name)
STATES: dict[int, tuple[str, str]] = {
    11: ("RO", "Rondônia"), 12: ("AC", "Acre"), 13: ("AM", "Amazonas"), 14: ("RR", "Roraima"),
    15: ("PA", "Pará"), 16: ("AP", "Amapá"), 17: ("TO", "Tocantins"), 21: ("MA", "Maranhão"),
    22: ("PI", "Piauí"), 23: ("CE", "Ceará"), 24: ("RN", "Rio Grande do Norte"), 25: ("PB", "Paraíba"),
    26: ("PE", "Pernambuco"), 27: ("AL", "Alagoas"), 28: ("SE", "Sergipe"), 29: ("BA", "Bahia"),
    31: ("MG", "Minas Gerais"), 32: ("ES", "Espírito Santo"), 33: ("RJ", "Rio de Janeiro"),
    35: ("SP", "São Paulo"), 41: ("PR", "Paraná"), 42: ("SC", "Santa Catarina"),
    43: ("RS", "Rio Grande do Sul"), 50: ("MS", "Mato Grosso do Sul"), 51: ("MT", "Mato Grosso"),
    52: ("GO", "Goiás"), 53: ("DF", "Distrito Federal"),
}
UF_TO_ID: dict[str, int] = {uf: code for code, (uf, _) in STATES.items()}


def normalise_name(text: str) -> str:
    """Upper-case, accents removed, inner whitespace collapsed: ``' Pará '`` -> ``'PARA'``."""
    decomposed = unicodedata.normalize("NFKD", str(text))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.upper().split())


_NAME_TO_UF: dict[str, str] = {normalise_name(name): uf for uf, name in STATES.values()}


def uf_from_text(value: object) -> str | None:
    """UF for a state name (any case/accents), a UF, an IBGE state code, or an IBGE municipality code
    (6 or 7 digits, the first two being the state's), given as text or a number; else None."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    key = normalise_name(str(value))
    if key in UF_TO_ID:
        return key
    if key in _NAME_TO_UF:
        return _NAME_TO_UF[key]
    try:
        code = float(key)
    except ValueError:
        return None
    if not code.is_integer():
        return None
    code = int(code)
    if 100_000 <= code <= 9_999_999:  # a municipality: its state's code leads
        code = int(str(code)[:2])
    return STATES[code][0] if code in STATES else None


def map_unique(values: pd.Series, func) -> pd.Series:
    """Apply `func` to each distinct value only (fast for low-cardinality columns)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    mapped = np.array([func(u) for u in uniques] + [np.nan], dtype=object)
    return pd.Series(mapped[codes], index=values.index)  # code -1 (missing) -> the trailing NaN


def uf_series(values: pd.Series) -> pd.Series:
    """UF (str, NaN where unknown) for a column of names, UFs or IBGE codes."""
    return map_unique(values, uf_from_text).astype("str")
