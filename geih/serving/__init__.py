"""Serving deployed model bundles: the prediction API and what it hands to monitoring."""
