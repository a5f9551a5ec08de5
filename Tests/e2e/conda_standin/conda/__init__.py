"""Stand-in for the parts of `conda` that conda-index imports (see ../README.md)."""
