"""Line chart: units per line over time, bucketed by hour or production day depending on the span."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from widgets._chart import chart_json, dataset, line_keys, units_of
from widgets.base import BaseWidget, widget_registry

HOURLY_MAX_SPAN = timedelta(days=3)
MAX_BUCKETS = 2000
FREQ = {"hour": "h", "day": "D"}
LABEL_FORMAT = {"hour": "%Y-%m-%d %H:00", "day": "%Y-%m-%d"}


class OverTimeConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    bucket: Literal["auto", "hour", "day"] = "auto"


@widget_registry.register
class ProductionOverTimeWidget(BaseWidget):
    """One line per production line; empty buckets are zeros so gaps (stoppages) show."""

    source_type = "internal"
    shape = "chart"
    config_model = OverTimeConfig
    sample_configs = ({}, {"bucket": "hour"}, {"bucket": "day"})
    default_size = (12, 2)

    @property
    def required_columns(self) -> frozenset[str]:  # type: ignore[override]
        """Hours only when the applied window can be drawn by hour: a month asked by hour would
        make every run read 24× more groups for a chart drawn by day."""
        base = frozenset({"production_day", "line_code", "line_name"})
        return base if self._window_bucket() == "day" else base | {"hour_start"}

    def _window_bucket(self) -> str | None:
        """The bucket the applied window decides before any data is read (None: no window).

        The drawn span is never shorter than the window cut at "now" (see _span), and a longer
        span never turns day buckets back into hours, so "day" here stays "day" in process_data.
        """
        if self.context.time_range is None:
            return None
        start, end = (t.replace(tzinfo=None) for t in self.context.time_range)
        if self.context.now is not None:
            end = max(start, min(end, self.context.now.replace(tzinfo=None)))
        return self._bucket(start, max(start, end - timedelta(microseconds=1)))

    def process_data(self, data: pd.DataFrame) -> dict[str, Any]:
        """Sum units per (line, bucket) and lay them on one shared, gap-free time axis."""
        if len(data) == 0:
            return self.empty_result()
        days = _naive(data["production_day"])
        hours = _naive(data["hour_start"]) if "hour_start" in data else None
        start, end = self._span(*self._bounds(hours, days))
        bucket = self._bucket(start, end) if hours is not None else "day"
        freq = FREQ[bucket]
        stamps = hours
        if bucket == "day":  # day buckets are production days (e.g. 06:00 → 06:00), labelled by date
            shift = pd.Timedelta(self.context.day_start)
            stamps, start, end = days, start - shift, end - shift
        axis = pd.date_range(pd.Timestamp(start).floor(freq), pd.Timestamp(end).floor(freq), freq=freq)
        lines, names = line_keys(data)
        step = pd.Timedelta(1, unit=FREQ[bucket]).value
        origin = axis[0].value
        offsets = stamps.to_numpy(dtype="datetime64[ns]").astype("int64") - origin
        slot = offsets // step
        inside = (slot >= 0) & (slot < len(axis))
        flat = lines[inside] * len(axis) + slot[inside]
        total = np.bincount(flat, weights=units_of(data)[inside], minlength=len(names) * len(axis))
        counts = total.astype(np.int64).reshape(len(names), len(axis))
        datasets = [dataset(name, counts[i].tolist()) for i, name in enumerate(names)]
        labels = [t.strftime(LABEL_FORMAT[bucket]) for t in axis]
        return chart_json("line", labels, datasets, bucket=bucket)

    def _bounds(self, hours: pd.Series | None, days: pd.Series) -> tuple[datetime, datetime]:
        """Instants in the same hour and production day as the oldest and the newest detection
        (the first and last instant both buckets share): all the axis needs to know of them."""
        day_start = pd.Timedelta(self.context.day_start)
        first = days.min() + day_start
        last = days.max() + day_start + pd.Timedelta(days=1)
        if hours is not None:
            first = max(hours.min(), first)
            last = min(hours.max() + pd.Timedelta(hours=1), last)
        last = last - pd.Timedelta(microseconds=1)
        return first.to_pydatetime(), last.to_pydatetime()

    def _span(self, first: datetime, latest: datetime) -> tuple[datetime, datetime]:
        """The applied window (inclusive end) cut at "now" or the newest data, whichever is later."""
        if self.context.time_range is not None:
            start, end = self.context.time_range
            start, end = start.replace(tzinfo=None), end.replace(tzinfo=None)
            # The axis stops at the plant's "now": future hours are not zero production.
            if self.context.now is not None:
                end = min(end, max(self.context.now, latest + timedelta(microseconds=1)))
            return start, max(start, end - timedelta(microseconds=1))
        return first, latest

    def _bucket(self, start: datetime, end: datetime) -> str:
        if self.config.bucket != "auto":
            chosen = self.config.bucket
        else:
            chosen = "hour" if end - start <= HOURLY_MAX_SPAN else "day"
        if chosen == "hour" and (end - start) / timedelta(hours=1) > MAX_BUCKETS:
            chosen = "day"
        return chosen


def _naive(column: pd.Series) -> pd.Series:
    """Datetimes without a timezone (buckets are plant wall time)."""
    stamps = pd.to_datetime(column)
    return stamps.dt.tz_localize(None) if stamps.dt.tz is not None else stamps
