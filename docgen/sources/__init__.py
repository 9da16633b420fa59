"""Finding files in environments, wheels and folders; the content-addressed store."""
