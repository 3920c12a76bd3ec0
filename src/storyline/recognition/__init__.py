"""Entities: recognise people, organisations and places, and give each one id across spellings and scripts.

Two steps, one module each: `spotting` finds the mentions of one text (gazetteers, capitalised runs, Arabic
role patterns); `resolution` gives every mention of a batch its entity id (name keys, surnames, scripts,
inflections) and matches names across scripts (`match_names`).
"""

from storyline.recognition.resolution import entities, match_key, match_names, resolve, resolve_after
from storyline.recognition.spotting import recognise

__all__ = ["entities", "match_key", "match_names", "recognise", "resolve", "resolve_after"]
