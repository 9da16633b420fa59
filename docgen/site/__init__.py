"""The study site: build stages, pages, diagrams, MkDocs plugin, atomic writes."""
