"""The names a latent walk is described by, apart from the walks themselves (which need torch), so that command
lines and show checks can offer them without importing it."""

MODES = ("keyframes", "noise")
SPACES = ("z", "w")
INTERPOLATIONS = ("slerp", "linear", "cubic")
