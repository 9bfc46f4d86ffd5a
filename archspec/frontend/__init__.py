"""The spec language: YAML with locations -> expansion -> validated IR graph."""
