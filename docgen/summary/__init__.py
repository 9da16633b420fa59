"""The static model summary: layers, shapes, parameters, MACs, and its renderers."""
