"""Footage to datasets, datasets to StyleGAN2 models: the bottom layer of likeness.

The tool version lives here because every other package may import `training`, and no package below it exists.
"""

__version__ = "0.1.0"
