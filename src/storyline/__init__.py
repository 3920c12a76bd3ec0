"""storyline: raw multilingual news in, stories out.

The public API is the pipeline's own stages as plain functions:
`extract` (main text and metadata of one page or scraped text);
`similarity` (calibrated P(same story) of two article texts in any languages);
`entities` (people, organisations and places of a text, one id across spellings and scripts) and
`match_names` (rank candidate names for query names in any script);
`quotes` (who said what, speakers resolved) and `actions` (who did what to whom, PLOVER classes).
"""

from storyline.attribution import quotes
from storyline.eventcoding import actions
from storyline.extraction import extract
from storyline.recognition import entities, match_names
from storyline.relatedness import similarity

__version__ = "0.1.0"
__all__ = ["__version__", "actions", "entities", "extract", "match_names", "quotes", "similarity"]
