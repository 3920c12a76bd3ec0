"""storyline: raw multilingual news in, stories out.

The public API is the pipeline's own stages as plain functions:
`extract` (main text and metadata of one page or scraped text).
"""

from storyline.extraction import extract

__version__ = "0.1.0"
__all__ = ["__version__", "extract"]
