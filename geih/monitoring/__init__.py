"""Production monitoring: the prediction log (store, background writer, resource sampler), ground truth
and performance over time, data drift against the training reference, reports and the health check
that triggers retraining. The statistics (drift, performance, summary) are pure functions; the I/O lives
in the store and in the stage and CLI commands."""
