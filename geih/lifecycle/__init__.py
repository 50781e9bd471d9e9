"""After training: MLflow tracking, the model registry, model selection, deployable bundles."""
