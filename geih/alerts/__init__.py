"""Environmental alerts from a model bundle's predictions, and the offline interactive risk map.

    levels       which risk levels alert (`--levels alto,crítico`): parsing and selection at the bundle's thresholds
    attribution  the features that pushed each cell's prediction most (XGBoost/LightGBM contributions, logistic
                 coefficient × standardized value; other families: none, said so)
    places       cell polygons on the project grid, state and municipality (IBGE codes) of each cell
    table        the alerts table of a features frame scored with a bundle (`AlertModel`, `build_alerts`)
    formats      GeoJSON (EPSG:4326) and CSV output, counts per level
    webhook      signed JSON POST with timeout and retries
    html_map     the self-contained HTML risk map (no network)

Everything here depends on the bundle contract (model_info.json, feature_schema.json, predict.py), not on tasks.
"""
