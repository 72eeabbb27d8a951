"""Run a column test once per distinct value: a column repeats its values many times."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd


def per_distinct(
    values: pd.Series, test: Callable[[pd.Series], pd.Series], blank: bool = False
) -> pd.Series:
    """test() applied to the distinct values of a column, spread back to every row.

    Blanks (None, NaN) get `blank` without being tested. Cells that compare equal share one
    verdict (1 == 1.0 == True), so test() must not tell such values apart; a str only ever
    equals a str.
    """
    if isinstance(values.dtype, pd.CategoricalDtype):  # a text column read from a file
        codes = values.cat.codes.to_numpy()
        distinct = values.cat.categories.to_numpy(dtype=object)
    else:
        codes, distinct = pd.factorize(values.to_numpy(dtype=object))
    verdict = np.full(len(distinct) + 1, blank, dtype=bool)  # the last slot: blanks (-1)
    if len(distinct):
        verdict[:-1] = test(pd.Series(distinct, dtype=object)).to_numpy(dtype=bool)
    return pd.Series(verdict[codes], index=values.index)
