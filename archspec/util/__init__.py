"""Small framework-free helpers every layer may use: atomic file writes, GC pauses."""
