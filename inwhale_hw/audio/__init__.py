"""Audio file I/O: PCM and coded containers, read and written atomically."""
