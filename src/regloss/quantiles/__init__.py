"""Quantiles of the absolute error: exact by radix selection over several passes
(:mod:`regloss.quantiles.radix`), for data that can be read again (arrays, files, Dask)."""
