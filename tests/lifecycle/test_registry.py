"""Registry rules without a store: the champion/challenger decision and the registered names."""

from __future__ import annotations

import pytest

from geih.errors import GeihError
from geih.lifecycle.registry import decide_alias, registered_name


def test_decide_alias_rules():
    p = {"metric": "roc_auc", "min_improvement": 0.01, "min_roc_auc": 0.6}
    assert decide_alias({"roc_auc": 0.8}, None, p)[0] == "champion"
    assert decide_alias({"roc_auc": 0.8}, {"roc_auc": 0.795}, p)[0] == "challenger"
    assert decide_alias({"roc_auc": 0.81}, {"roc_auc": 0.795}, p)[0] == "champion"
    alias, reason = decide_alias({"roc_auc": 0.55}, None, p)
    assert alias == "challenger" and "floor" in reason


def test_registered_name_is_the_tasks():
    assert registered_name("fire_risk") == "geih-fire-risk"
    assert registered_name("deforestation") == "geih-deforestation"
    with pytest.raises(GeihError, match="unknown task 'climate'"):
        registered_name("climate")
