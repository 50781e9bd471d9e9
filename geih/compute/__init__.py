"""Where prepare, featurize and train run: this process (the default) or a Dask cluster.

`cluster` reads the `compute` params group (and `DASK_SCHEDULER_ADDRESS`) and opens the client;
`spatial`, `partitions` and `xgb` are the Dask executors of prepare's spatial joins, featurize and
XGBoost training. Dask is imported only when a scheduler is named.
"""
