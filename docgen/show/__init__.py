"""One class in the terminal (`docgen show`)."""
