"""Model families, training, splits, evaluation metrics and reports, maps."""
