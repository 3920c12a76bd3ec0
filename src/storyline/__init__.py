"""storyline: raw multilingual news in, stories out."""
__version__ = "0.1.0"
