"""From a sitter's footage to dataset zips in NVIDIA's layout, and the inspection of those zips."""
