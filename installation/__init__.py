"""The renderer: shows, OSC control and film export. The top layer; may import `evaluation` and `training`."""
