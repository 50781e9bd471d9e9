"""Shared domain formulas: the grid, the INPE fire-risk index, the probability risk levels."""
