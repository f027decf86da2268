"""Write the example notebooks (without outputs) from the cells below.

    python notebooks/build.py

Edit the cells here, not in Jupyter, and run this again: the notebooks are committed
without outputs and with stable cell ids, so a rebuild of unchanged cells changes nothing.
``tests/test_notebooks.py`` executes them against the sandbox.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent

Cell = tuple[str, str]  # ("md" | "py", source)


def md(text: str) -> Cell:
    return ("md", text.strip("\n"))


def py(text: str) -> Cell:
    return ("py", text.strip("\n"))


REAL_USE = md("""
With real credentials you skip the sandbox and write `client = raadata.Client.from_env()`:
the client id and secret come from the environment (`RAADATA_CLIENT_ID`,
`RAADATA_CLIENT_SECRET_FILE` or `RAADATA_CLIENT_SECRET`, `RAADATA_ENVIRONMENT`).
**Never type a secret into a notebook**: outputs, checkpoints and version control keep it.
""")

CLEAN_UP = md("""
## Clean up

Close the client (its pooled connections) and stop the sandbox.
""")

QUICKSTART: list[Cell] = [
    md("""
# raadata quickstart

A day of three sensor series into a pandas DataFrame, their units, what the pull took, and
a plot. It runs against the **sandbox**, a local stand-in for the Prism API and its token
endpoint that ships with raadata: no credentials and no network needed.
"""),
    md("""
## Start the sandbox

`Sandbox().start()` serves a synthetic fleet (three vessels, data since 2024-01-01) on
127.0.0.1 in a background thread. `sandbox.client()` is a `raadata.Client` pointed at it,
signed in as a built-in client that may read the whole fleet.
"""),
    REAL_USE,
    py("""
import matplotlib.pyplot as plt

import raadata
from raadata.sandbox import Sandbox

sandbox = Sandbox().start()
client = sandbox.client()
client
"""),
    md("""
`whoami()` shows who the credentials are: client id, scopes and token expiry, never the
token itself.
"""),
    py("""
client.whoami()
"""),
    md("""
## A day of three series

A selector is `domain/expression`; in the `raalabs` domain the expression is
`IMO/tag`. Times are UTC and ranges are half-open, `[start, end)`: the range below is
exactly the UTC day 2025-01-01, and a point stamped at midnight on the 2nd belongs to the
next day.
"""),
    py("""
SERIES = [
    "raalabs/IMO1000001/ME ShaftPower",
    "raalabs/IMO1000001/ME ShaftSpeed",
    "raalabs/IMO1000001/Nav SOG",
]
df = raadata.get_series(SERIES, "2025-01-01", "2025-01-02", client=client)
df.head()
"""),
    md("""
The frame is *wide*: a UTC `DatetimeIndex` named `timestamp` and one float column per
series. Series sampled at different rates leave `NaN` where one has no point (speed over
ground comes every 5 s, shaft power every second).
"""),
    py("""
df.shape, df.index.min(), df.index.max()
"""),
    py("""
df.count()
"""),
    md("""
## Units and the pull report

Units come from the series metadata, in `df.attrs["units"]`. The pull report says what
the call fetched and what it took: points, requests, retries, splits, rows per series. The
frame carries it as a plain dict in `df.attrs["report"]` (so it survives `to_parquet`);
`client.last_report` is the same report with a readable summary.
"""),
    py("""
df.attrs["units"]
"""),
    py("""
df.attrs["report"]["points"], df.attrs["report"]["requests"]
"""),
    py("""
print(client.last_report)
"""),
    md("""
## Plot

86,400 points per line is more than a plot needs: take 10-minute means first.
"""),
    py("""
units = df.attrs["units"]
means = df.resample("10min").mean()
axes = means.plot(subplots=True, figsize=(10, 6), legend=False, sharex=True)
for ax, name in zip(axes, means.columns, strict=True):
    ax.set_title(name, fontsize=10)
    ax.set_ylabel(units[name])
plt.tight_layout()
"""),
    md("""
## Long form

`shape="long"` gives one row per point: `timestamp`, `series`, `id` (the series UUID),
`value`, which is also what an export writes to Parquet.
"""),
    py("""
long = raadata.get_series(
    "raalabs/IMO1000001/ME ShaftPower", "2025-01-01T00:00", "2025-01-01T00:01",
    client=client, shape="long",
)
long.head()
"""),
    CLEAN_UP,
    py("""
client.close()
sandbox.close()
"""),
]

STATISTICS: list[Cell] = [
    md("""
# Statistics and metadata

What series a vessel has, aggregates over time windows, and what happens when one id names
two series. Runs against the local sandbox (no credentials, no network).
"""),
    REAL_USE,
    py("""
from raadata.sandbox import Sandbox

sandbox = Sandbox().start()
client = sandbox.client()
"""),
    md("""
## Metadata of a vessel

One row per series: the id in the domain you asked (`series`), name, unit, description,
the series UUID (`timeSeriesId`) and its ids in the other domains (`mapsTo.*`).
"""),
    py("""
meta = client.metadata("raalabs/IMO1000001/*")
meta[["series", "name", "uom", "source"]]
"""),
    py("""
meta.filter(like="mapsTo.").head(3)
"""),
    md("""
## Several aggregations, one window

`statistics` asks the server for aggregates (`avg min max count sum stddev first last`)
per window. Windows are aligned to the Unix epoch in UTC, each row is stamped with the
start of its window, and windows without points are left out.
"""),
    py("""
POWER = "raalabs/IMO1000001/ME ShaftPower"
hourly = client.statistics(
    POWER, "2025-01-01", "2025-01-02",
    aggregations=["avg", "min", "max", "stddev"], window="1hour",
)
hourly.head()
"""),
    md("""
## Other windows

Durations read like `15min`, `6hours`, `1day` (write `min` for minutes: `M` is refused
as ambiguous). Whatever the window, the counts add up to the same number of points.
"""),
    py("""
for window in ["15min", "6hours", "1day"]:
    frame = client.statistics(
        POWER, "2025-01-01", "2025-01-03", aggregations="avg,count", window=window
    )
    print(f"{window:>6}: {len(frame):3d} windows, {int(frame['count'].sum()):,} points, "
          f"mean power {frame['avg'].mean():,.0f} kW")
"""),
    md("""
## The fleet, day by day

With several series and several aggregations the columns have two levels,
`(series, aggregation)`; `xs` picks one aggregation for every series.
"""),
    py("""
daily = client.statistics(
    "raalabs/*/ME ShaftPower", "2025-01-01", "2025-01-08",
    aggregations=["avg", "max"], window="1day",
)
daily.xs("avg", axis=1, level="aggregation").round(1)
"""),
    md("""
## One id, two series

In the `parameters` domain, `IMO1000001/AE Power/AE Power` names the power of *both*
auxiliary engines. Metadata keeps them apart, as two rows with two UUIDs; data columns
get unique labels (the id plus the start of each UUID).
"""),
    py("""
SHARED = "parameters/IMO1000001/AE Power/AE Power"
shared = client.metadata(SHARED)
shared[["series", "name", "timeSeriesId", "mapsTo.raalabs"]]
"""),
    md("""
Asking for data with that id reads both series; each keeps its own column.
"""),
    py("""
client.statistics(SHARED, "2025-01-01", "2025-01-02", aggregations="avg", window="6hours")
"""),
    CLEAN_UP,
    py("""
client.close()
sandbox.close()
"""),
]

EXPORT: list[Cell] = [
    md("""
# Export to Parquet

`client.export` writes a Parquet dataset: long form, partitioned hive-style by vessel and
UTC day, each file written atomically as soon as its request finishes. Running the same
export again resumes it. Runs against the local sandbox, into a temporary directory.
"""),
    REAL_USE,
    py("""
import json
import tempfile
from pathlib import Path

import pandas as pd
import pyarrow.dataset as ds

import raadata
from raadata.sandbox import Sandbox

sandbox = Sandbox().start()
client = sandbox.client()
workdir = tempfile.TemporaryDirectory()
out = Path(workdir.name) / "fleet-2025-01"
"""),
    md("""
## Export two days of two tags across the fleet

The same selectors and time arguments as `get_series`; the range is `[start, end)` in UTC.
"""),
    py("""
SELECTORS = ["raalabs/*/ME ShaftPower", "raalabs/*/Nav SOG"]
result = client.export(SELECTORS, "2025-01-01", "2025-01-03", out)
print(result)
"""),
    md("""
## What is on disk

One directory per (vessel, day), and a sidecar `_raadata.json` saying what the dataset
holds: selectors, range, API version, units and names.
"""),
    py("""
sorted(str(p.relative_to(out)) for p in out.glob("*/*"))
"""),
    py("""
sidecar = json.loads((out / "_raadata.json").read_text())
sidecar["spec"]
"""),
    md("""
## Read it back with pandas

`pandas.read_parquet` reads the whole dataset and turns the partition directories into
`vessel` and `date` columns.
"""),
    py("""
frame = pd.read_parquet(out)
frame.head()
"""),
    py("""
frame.groupby(["vessel", "series"], observed=True).size()
"""),
    md("""
## ... or with `pyarrow.dataset`

With `partitioning="hive"` a filter on `vessel` or `date` skips whole directories before
any file is read, which is what makes a big export cheap to query.
"""),
    py("""
dataset = ds.dataset(out, format="parquet", partitioning="hive")
print(dataset.schema)
one_day = dataset.to_table(
    filter=(ds.field("vessel") == "IMO1000002") & (ds.field("date") == "2025-01-02")
)
one_day.num_rows
"""),
    md("""
## Run it again: resume

Every finished (vessel, day) unit is recorded, so the same export run again (say after a
crash or a lost connection) skips them and only fetches what is missing. Here nothing is.
"""),
    py("""
again = client.export(SELECTORS, "2025-01-01", "2025-01-03", out)
print(again)
"""),
    md("""
Other arguments into the same directory are refused, so two different exports never mix;
pass `overwrite=True` to start again. From a shell the same export (and its resume) is

```bash
raadata export "raalabs/*/ME ShaftPower" "raalabs/*/Nav SOG" \\
    --start 2025-01-01 --end 2025-01-03 --out fleet-2025-01
```
"""),
    py("""
try:
    client.export("raalabs/*/SW Temp", "2025-01-01", "2025-01-03", out)
except raadata.ExportConflictError as error:
    print("refused:", error)
"""),
    CLEAN_UP,
    py("""
client.close()
sandbox.close()
workdir.cleanup()
"""),
]

RECIPES: list[Cell] = [
    md("""
# Recipes: a maritime analyst's day

Six everyday questions, each answered in a few lines and a plot whose axes carry units:
the fleet's shaft power over a day, daily fuel per vessel for a month, fuel per nautical
mile, outages found and shown, two vessels compared, and the speed-power curve. All of it
runs against the **sandbox** (a synthetic fleet on 127.0.0.1), so the numbers are made up;
the code is what you would run on your own fleet.
"""),
    REAL_USE,
    py("""
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import raadata
from raadata.sandbox import Sandbox

sandbox = Sandbox(now="2025-02-01T00:00:00Z").start()
client = sandbox.client(progress=False)
"""),
    md("""
## 1. The fleet's shaft power over a day

`columns="fleet"` gives two column levels, `(vessel, tag)`: one tag across the fleet is
`xs(tag, level="tag", axis=1)`, and `attrs["vessels"]` names the vessels.
"""),
    py("""
fleet = client.measurements("raalabs/*/ME ShaftPower", "2025-01-10", "2025-01-11",
                            columns="fleet", window="10min")
power = fleet.xs("ME ShaftPower", level="tag", axis=1).xs("avg", level="aggregation", axis=1)
names = fleet.attrs["vessels"]
unit = fleet.attrs["units"][f"{power.columns[0]}/ME ShaftPower"]
ax = power.rename(columns=names).plot(figsize=(9, 3.5), title="Main engine shaft power, 10-min mean")
ax.set_xlabel("time (UTC)")
ax.set_ylabel(f"shaft power [{unit}]")
plt.show()
"""),
    md("""
## 2. Daily fuel per vessel for a month

Fuel mass flow is in kg/h, so a day's mean times 24 h is that day's fuel in kg. The
statistics endpoint does the averaging: one request per vessel-month instead of millions of
points.
"""),
    py("""
flow = client.statistics("raalabs/*/ME FuelMassFlow", year=2025, month=1, window="1day",
                         aggregations="avg", columns="fleet")
daily_t = flow.xs("avg", level="aggregation", axis=1).droplevel("tag", axis=1) * 24 / 1000
daily_t = daily_t.rename(columns=flow.attrs["vessels"], index=lambda day: day.strftime("%d"))
ax = daily_t.plot.bar(figsize=(10, 3.5), width=0.8, rot=0, title="Main engine fuel per day")
ax.set_xlabel("day of January 2025 (UTC)")
ax.set_ylabel("fuel [t/day]")
plt.show()
daily_t.sum().round(1).rename("fuel in January [t]")
"""),
    md("""
## 3. Fuel per nautical mile

Speed over ground in knots is nautical miles per hour, so an hour's mean SOG is the
distance sailed in that hour; hourly fuel over hourly distance is fuel per nautical mile.
Hours in port (almost no distance) are left out.
"""),
    py("""
hourly = client.statistics(["raalabs/*/ME FuelMassFlow", "raalabs/*/Nav SOG"],
                           "2025-01-01", "2025-01-15", window="1hour", aggregations="avg",
                           columns="fleet")
hourly = hourly.xs("avg", level="aggregation", axis=1)
fuel_kg = hourly.xs("ME FuelMassFlow", level="tag", axis=1)   # kg in that hour
distance_nm = hourly.xs("Nav SOG", level="tag", axis=1)       # nm in that hour
per_nm = (fuel_kg / distance_nm).where(distance_nm > 2)
ax = per_nm.rename(columns=hourly.attrs["vessels"]).plot(
    figsize=(9, 3.5), style=".", alpha=0.6, title="Fuel per nautical mile, hourly")
ax.set_xlabel("time (UTC)")
ax.set_ylabel("fuel [kg/nm]")
plt.show()
per_nm.rename(columns=hourly.attrs["vessels"]).median().round(1).rename("median [kg/nm]")
"""),
    md("""
## 4. Outages: found and shown

A `count` per window with `complete=True` has a row for every window, zero where the
vessel sent nothing, whatever the number of series: gaps are the zero-count windows.
"""),
    py("""
counts = client.statistics("raalabs/*/ME ShaftPower", "2025-01-01", "2025-01-15",
                           window="10min", aggregations="count", complete=True,
                           columns="fleet")
counts = counts.xs("count", level="aggregation", axis=1).droplevel("tag", axis=1)
gaps = counts == 0
outages = []
for vessel, missing in gaps.items():
    starts = missing & ~missing.shift(fill_value=False)
    ends = missing & ~missing.shift(-1, fill_value=False)
    for begin, end in zip(missing.index[starts], missing.index[ends]):
        outages.append({"vessel": counts.attrs["vessels"].get(vessel, vessel), "from": begin,
                        "to": end + pd.Timedelta("10min")})
outages = pd.DataFrame(outages)
fig, ax = plt.subplots(figsize=(9, 2.5))
for row, vessel in enumerate(counts.columns):
    ax.fill_between(counts.index, row, row + 0.8, where=gaps[vessel], step="post", color="C3")
ax.set_yticks([r + 0.4 for r in range(len(counts.columns))],
              [counts.attrs["vessels"].get(v, v) for v in counts.columns])
ax.set_xlabel("time (UTC)")
ax.set_title("Outages of ME ShaftPower (10-min windows with no data)")
plt.show()
outages.head(10)
"""),
    md("""
## 5. Two vessels compared

`labels="name"` gives readable labels with the vessel's name when several vessels show.
"""),
    py("""
two = client.measurements(["raalabs/IMO1000001/ME ShaftSpeed", "raalabs/IMO1000002/ME ShaftSpeed"],
                          "2025-01-10", "2025-01-11", labels="name", window="15min",
                          aggregations="avg")
ax = two.plot(figsize=(9, 3.5), title="Main engine shaft speed, 15-min mean")
ax.set_xlabel("time (UTC)")
ax.set_ylabel("shaft speed [rpm]")
plt.show()
two.describe().round(1)
"""),
    md("""
## 6. The speed-power curve

Hourly means of speed over ground against shaft power at sea: power grows roughly with
the cube of speed (the propeller law). In port (SOG near zero) is left out.
"""),
    py("""
curve = client.statistics(["raalabs/*/ME ShaftPower", "raalabs/*/Nav SOG"], "2025-01-01",
                          "2025-02-01", window="1hour", aggregations="avg", columns="fleet")
curve = curve.xs("avg", level="aggregation", axis=1)
fig, ax = plt.subplots(figsize=(6, 4.5))
for vessel, name in curve.attrs["vessels"].items():
    sog, power = curve[(vessel, "Nav SOG")], curve[(vessel, "ME ShaftPower")]
    at_sea = sog > 3
    ax.scatter(sog[at_sea], power[at_sea], s=6, alpha=0.5, label=name)
ax.set_xlabel("speed over ground [knot]")
ax.set_ylabel("shaft power [kW]")
ax.set_title("Speed-power curve, hourly means at sea")
ax.legend()
plt.show()
"""),
    CLEAN_UP,
    py("""
client.close()
sandbox.close()
"""),
]

DASK: list[Cell] = [
    md("""
# A fleet over months, on a Dask cluster

`raadata.dask` turns a pull into a lazy Dask DataFrame: one partition per time window, all
selected series in each, with known divisions so that `.loc[...]` fetches only the windows
it needs. Here the cluster is a `LocalCluster` on this machine and the API is the
**sandbox**; on a real cluster you point `distributed.Client` at its scheduler, and each
worker reads its credentials from its own environment (`RAADATA_*`), never from the graph.
"""),
    py("""
import matplotlib.pyplot as plt
from distributed import Client as DaskClient
from distributed import LocalCluster

import raadata.dask
from raadata.sandbox import Sandbox

sandbox = Sandbox(now="2025-04-01T00:00:00Z").start()
client = sandbox.client(progress=False)
cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                       dashboard_address=":0")
dask_client = DaskClient(cluster)
print("dashboard:", dask_client.dashboard_link)
"""),
    md("""
## The lazy frame: built from metadata alone

Building it resolves the selectors and fetches no data. Its divisions are the windows'
starts (UTC).
"""),
    py("""
power = raadata.dask.read_measurements("raalabs/*/ME ShaftPower", "2025-01-01", "2025-03-01",
                                       partition_freq="7D", client=client)
print(power.npartitions, "partitions; divisions known:", power.known_divisions)
power.divisions[:3]
"""),
    md("""
## A fleet-wide computation on the cluster

Daily mean shaft power per vessel over two months: the groupby runs on the workers, each
task pulling its week of points; only the small result comes back.
"""),
    py("""
daily = (power.map_partitions(lambda part: part.assign(day=part.index.floor("1D")))
              .groupby(["day", "series"])["value"].mean()
              .compute()
              .unstack("series"))
ax = daily.plot(figsize=(9, 3.5), title="Main engine shaft power, daily mean")
ax.set_xlabel("day (UTC)")
ax.set_ylabel("shaft power [kW]")
plt.show()
"""),
    md("""
## Only what is needed

`.loc` on the time index prunes partitions: one afternoon reads one week's task.
"""),
    py("""
afternoon = power.loc["2025-02-10T12:00":"2025-02-10T18:00"]
print(afternoon.npartitions, "partition to read")
afternoon.compute().groupby("series")["value"].describe().round(1)
"""),
    CLEAN_UP,
    py("""
dask_client.close()
cluster.close()
client.close()
sandbox.close()
"""),
]

NOTEBOOKS: dict[str, list[Cell]] = {
    "01-quickstart.ipynb": QUICKSTART,
    "02-statistics-and-metadata.ipynb": STATISTICS,
    "03-export-to-parquet.ipynb": EXPORT,
    "04-recipes.ipynb": RECIPES,
    "05-dask.ipynb": DASK,
}


def build(cells: list[Cell]) -> Any:
    """A notebook without outputs, with stable cell ids and the python3 kernel.

    (nbformat's functions carry no type hints, hence the ignores.)
    """
    notebook = new_notebook()  # type: ignore[no-untyped-call]
    notebook.metadata = {
        "kernelspec": {"name": "python3", "display_name": "Python 3 (ipykernel)",
                       "language": "python"},
        "language_info": {"name": "python"},
    }
    for index, (kind, source) in enumerate(cells):
        cell = (new_markdown_cell(source) if kind == "md"  # type: ignore[no-untyped-call]
                else new_code_cell(source))  # type: ignore[no-untyped-call]
        cell.id = f"cell-{index:02d}"
        notebook.cells.append(cell)
    nbformat.validate(notebook)
    return notebook


def main() -> None:
    for name, cells in NOTEBOOKS.items():
        nbformat.write(build(cells), HERE / name)  # type: ignore[no-untyped-call]
        print(f"wrote {HERE / name}")


if __name__ == "__main__":
    main()
