"""Warm stage processes: `geih warm -- dvc repro` runs each stage script in a process forked from a server that
has already imported pandas, scikit-learn, XGBoost, LightGBM and MLflow, instead of paying those imports
(3–5 s) in every stage. Without it every stage runs in its own cold process, exactly as before."""
