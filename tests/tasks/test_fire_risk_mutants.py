"""Fire-risk featurize cases found by mutation testing: a month with a single hotspot is a fire month, and the
incomplete-grid error names its column."""

from __future__ import annotations

import pandas as pd
import pytest

from geih.errors import DataError
from geih.tasks import fire_risk
from tests.tasks.test_fire_features import hand_panel


def test_one_hotspot_makes_a_fire_month_for_the_calendar_month_rate():
    """Cell 0 of the hand panel has j hotspots in month j (month 0 = January 2020). The row of January 2021
    labels February 2021, whose only earlier February (month 1) had exactly one hotspot: rate 1/1."""
    feats = fire_risk.featurize(hand_panel(), 1.0)
    cell0 = feats[feats["cell_id"] == feats["cell_id"].min()].set_index("month")
    row = cell0.loc[pd.Timestamp("2021-01-01")]
    assert row["label_month"] == pd.Timestamp("2021-02-01")
    assert row["fire_rate_label_calendar_month"] == 1.0 and row["hotspots_label_calendar_month"] == 1.0


def test_incomplete_panel_error_names_the_month_column():
    with pytest.raises(DataError, match=r"^column 'month': the panel is not a complete cell × month grid$") as err:
        fire_risk.featurize(hand_panel().iloc[1:], 1.0)
    assert err.value.column == "month"
