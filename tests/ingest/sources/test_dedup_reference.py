"""Reference-satellite deduplication keeps INPE's reference series (AQUA_M-T, Aqua's afternoon pass) only:
not Aqua's morning pass, not Terra's passes, not the other satellites, not look-alike names."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geih.errors import ParamsError
from geih.ingest.sources.hotspot_rules import REFERENCE_SATELLITE, dedup_hotspots

SATELLITES = ["AQUA_M-M", "AQUA_M-T", "TERRA_M-T", "AQUA_M-T", "TERRA_M-M", "aqua_m-t", "AQUA_M-T ", "AQUA_M",
              "NPP-375", "AQUA_M-T", "NOAA-20", "GOES-16"]


def detections() -> pd.DataFrame:
    n = len(SATELLITES)
    return pd.DataFrame({"datetime": pd.date_range("2024-08-04 03:00", periods=n, freq="37min"),
                         "lat": [-6.5 - 0.01 * i for i in range(n)], "lon": [-58.8] * n, "satellite": SATELLITES,
                         "frp": [float(i) for i in range(n)]})


def test_reference_keeps_only_the_reference_pass_in_input_order():
    out, counts = dedup_hotspots(detections(), "reference")
    assert REFERENCE_SATELLITE == "AQUA_M-T"
    assert out["satellite"].tolist() == ["AQUA_M-T"] * 3
    assert out["frp"].tolist() == [1.0, 3.0, 9.0]  # the rows themselves, in input order
    assert counts == {"dropped_not_reference_satellite": len(SATELLITES) - 3}
    assert out.index.tolist() == [0, 1, 2]


def test_another_reference_satellite_is_honoured():
    out, counts = dedup_hotspots(detections(), "reference", reference_satellite="AQUA_M-M")
    assert out["frp"].tolist() == [0.0] and counts["dropped_not_reference_satellite"] == len(SATELLITES) - 1


def test_reference_without_any_reference_detection_keeps_nothing():
    frame = detections()
    frame = frame[frame["satellite"] != "AQUA_M-T"]
    out, counts = dedup_hotspots(frame, "reference")
    assert out.empty and counts == {"dropped_not_reference_satellite": len(frame)}
    empty, counts = dedup_hotspots(frame.iloc[:0], "reference")
    assert empty.empty and counts == {"dropped_not_reference_satellite": 0}


def test_place_time_and_unknown_methods():
    frame = detections()
    same_place = frame.assign(lat=-6.5, datetime=pd.Timestamp("2024-08-04 03:10"))
    out, counts = dedup_hotspots(same_place, "place_time")
    assert len(out) == 1 and counts == {"dropped_place_time_duplicates": len(frame) - 1}
    # ties in time go to the satellite name order
    assert out["satellite"].iloc[0] == sorted(SATELLITES)[0]
    with pytest.raises(ParamsError, match="unknown method 'satellite'"):
        dedup_hotspots(frame, "satellite")
    with pytest.raises(ParamsError, match="time_window_minutes"):
        dedup_hotspots(frame, "place_time", time_window_minutes=0)
    with pytest.raises(ParamsError, match="place_decimals"):
        dedup_hotspots(frame, "place_time", place_decimals=-1)


def test_place_time_windows_are_fixed_not_sliding_and_places_rounded():
    frame = pd.DataFrame({
        "datetime": pd.to_datetime(["2024-08-04 17:59", "2024-08-04 18:01", "2024-08-04 17:00", "2024-08-04 17:30",
                                    "2024-08-04 17:10"]),
        "lat": [-6.501, -6.502, -6.504, -6.55, -6.5049], "lon": [-58.80, -58.80, -58.80, -58.80, -58.80],
        "satellite": ["NOAA-20", "NOAA-21", "AQUA_M-T", "NPP-375", "TERRA_M-T"]})
    out, counts = dedup_hotspots(frame, "place_time")
    # 17:59 and 18:01 are two minutes apart but in two windows; 17:00, 17:10 and 17:59 share -6.50 and 17:00–18:00
    assert out["satellite"].tolist() == ["NOAA-21", "AQUA_M-T", "NPP-375"]
    assert counts == {"dropped_place_time_duplicates": 2}
    # a one-day window and one decimal: -6.50x are one place (earliest: 17:00), -6.55 rounds to -6.6
    coarse, counts = dedup_hotspots(frame, "place_time", place_decimals=1, time_window_minutes=1440)
    assert coarse["satellite"].tolist() == ["AQUA_M-T", "NPP-375"]
    assert counts == {"dropped_place_time_duplicates": 3}


def test_south_america_box_and_swapped_vote_edges():
    from geih.ingest.sources.hotspot_rules import in_south_america, swapped_sample

    x = np.array([-82.0, -34.0, -82.01, -33.99, -60.0, -60.0])
    y = np.array([-56.0, 13.0, 0.0, 0.0, -56.01, 13.01])
    assert in_south_america(x, y).tolist() == [True, True, False, False, False, False]
    # exactly half the rows look swapped: no verdict (more than half is needed)
    assert swapped_sample(np.array([-60.0, -6.5]), np.array([-6.5, -60.0])) is None
    assert swapped_sample(np.array([-60.0, -61.0, -6.5]), np.array([-6.5, -7.0, -60.0])) == (-60.0, -6.5)
    assert swapped_sample(np.array([95.0, -6.5]), np.array([10.0, -60.0])) is None  # one impossible of two
