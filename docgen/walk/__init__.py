"""The walk from each layer to ATen operators and backend kernels, and its renderers."""
