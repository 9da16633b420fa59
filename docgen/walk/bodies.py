"""Which backend a C++ kernel body serves, judged from the file it was read in, and the note
a taken path carries where the body of the backend's kernel was not read.

A body is attached to a kernel by the kernel function's name; the file it was read in says
which backend can run it: files under `cuda/`, `cudnn/`, `miopen/` (and `.cu`/`.cuh`) are
CUDA code, `mps/` (and `.mm`) MPS code, `xpu/` XPU code, `quantized/cpu/`, `cpu/`,
`mkldnn/` (and oneDNN's `ideep`) CPU code. Files directly in `aten/src/ATen/native/` or in
`torch/csrc/autograd/` are shared: a function there may be registered for any key
(`log_sigmoid_backward_cuda` is defined in Activation.cpp and dispatches to a CUDA stub).
Nothing here reads sources or decides branches (taken.py does).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

# (path pattern, backend whose kernels a body in such a file can be), first match wins
_FILE_BACKENDS = (
    (re.compile(r"(?:^|/)(?:cuda|cudnn|miopen|hip|sparse/cuda|quantized/cuda|nested/cuda)/"
                r"|\.cuh?$"), "CUDA"),
    (re.compile(r"(?:^|/)mps/|\.mm$"), "MPS"),
    (re.compile(r"(?:^|/)xpu/"), "XPU"),
    (re.compile(r"(?:^|/)(?:cpu|mkldnn|quantized/cpu|nested/cpu)/"), "CPU"),
)


def file_backend(path: str) -> str | None:
    """The backend whose kernels a body read in `path` can be; None for shared files."""
    for pattern, backend in _FILE_BACKENDS:
        if pattern.search(path):
            return backend
    return None


def serves(path: str, backend: str) -> bool:
    """Whether a body read in `path` can be the `backend` kernel's."""
    found = file_backend(path)
    return found is None or found == backend


def wrong_backend_reason(path: str, backend: str) -> str:
    return (f"read in {path}, {file_backend(path)} code: not the body of the {backend} "
            "kernel on this path")


def unread_note(backend: str, kernel: str) -> str:
    """`CUDA body not read: ...` for a backend kernel whose body no edge was read in."""
    return (f"{backend} body not read: the file defining {kernel} is not in the shipped "
            "edges (the walk stops at the kernel)")


def bodies_not_read(taken: Any, has_body: Callable[[str], bool], backend: str
                    ) -> tuple[tuple[str, str], ...]:
    """Operator -> note, for each operator of the taken path (forward and backward) whose
    kernel is the backend's own and whose body no edge was read in (`has_body(kernel)`)."""
    out: dict[str, str] = {}
    for name, text in (*taken.kernels, *taken.backward_kernels):
        found = re.fullmatch(r"(.*) \((\w+)\)", text)
        if not found or found.group(2) != backend:
            continue
        kernel, _, generated = found.group(1).partition(" (generated from ")
        if generated:
            # a ufunc kernel: torchgen writes its body (UfuncCPU_<op>.cpp, UfuncCUDA_<op>.cu)
            out.setdefault(name, f"{backend} body generated at build time from the "
                           f"{generated.rstrip(')')} entry of native_functions.yaml; not in "
                           "the wheel")
        elif not has_body(kernel):
            out.setdefault(name, unread_note(backend, kernel))
    return tuple(out.items())
