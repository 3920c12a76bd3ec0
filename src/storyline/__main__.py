"""`python -m storyline` runs the command line."""

import sys

from storyline.cli import main

# The guard matters: worker processes (the Dask engine's) start by importing the main module again.
if __name__ == "__main__":
    sys.exit(main())
