"""The ``regloss`` command line: ``regloss evaluate`` scores predictions in files, ``regloss losses``
lists the losses and metrics.

Modules, one job each: :mod:`.main` (arguments and dispatch), :mod:`.readers` (file formats as
streams of row chunks: CSV and Parquet there, NPY and NPZ in :mod:`.npy`, the interface in
:mod:`.table`), :mod:`.columns` (which columns are truth, prediction and weight),
:mod:`.names` (metric names and the catalogue of losses), :mod:`.engine` (the streaming evaluation),
:mod:`.dask_engine` (the same over Dask), :mod:`.report` (table, JSON and CSV output),
:mod:`.plot` (diagnostic plots), :mod:`.progress` (the progress bar), :mod:`.files` (atomic
writes, never onto an input), :mod:`.interrupt` (Ctrl-C: exit status 130, nothing replaced).
``import regloss`` never imports this package; pyarrow, matplotlib and Dask are imported only when
a command needs them.
"""
