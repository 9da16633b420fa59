"""Records, from real torch, which aten operators each layer runs forward and backward.

Run by the oracle venv's python (it imports torch; docgen never does):

    python tests/oracles/record_traces.py OUT_DIR [TARGET ...]

Writes OUT_DIR/<target>.json for every target (all of them when none is named). The
conventions (paths, `:functional` entries, depth, backward attribution) are in README.md.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.profiler import ProfilerActivity, profile, record_function
from torchenv import import_torchvision

torchvision = import_torchvision()

SCHEMA = 1
SEED = 0
LAYER = "layer:"
FUNCTIONAL = ":functional"
NODE_EVENT = "autograd::engine::evaluate_function: "


@dataclass(frozen=True)
class Target:
    name: str
    build: Callable[[], nn.Module]
    inputs: Callable[[], tuple[torch.Tensor, ...]]
    call: str  # how the module is called, for readers of the JSON
    kwargs: dict[str, Any] = field(default_factory=dict)
    # the float inputs require grad, as a layer inside a network sees them (a module without
    # parameters has no backward otherwise); written to the JSON as `input_grad` when set
    input_grad: bool = False


def _image() -> tuple[torch.Tensor, ...]:
    return (torch.randn(2, 3, 224, 224),)


def _vision(name: str) -> Target:
    return Target(name, lambda: torchvision.models.get_model(name, weights=None), _image,
                  "model(x)")


def _single(name: str, call: str, shape: tuple[int, ...]) -> Target:
    """A single module built by evaluating `call` (`nn.GELU()`) with `nn` in scope, called
    on one float input of `shape`."""
    return Target(name, lambda: eval(call, {"nn": nn}), lambda: (torch.randn(*shape),),
                  f"{call}(x)", input_grad=True)
def _segmentation(name: str) -> Target:
    # weights_backbone=None: the builders default to ImageNet backbone weights (a download);
    # the architecture is the same either way
    return Target(name, lambda: torchvision.models.get_model(name, weights=None,
                                                             weights_backbone=None),
                  _image, "model(x)")


def _video() -> tuple[torch.Tensor, ...]:
    # the smallest clip r3d_18's stem and three stride-2 stages still reduce to >= 1
    return (torch.randn(2, 3, 4, 56, 56),)


def _timm(name: str) -> Target:
    """`timm.create_model(name, pretrained=False)`; the target is `timm_<name>`."""
    def build() -> nn.Module:
        import timm

        return timm.create_model(name, pretrained=False)
    return Target(f"timm_{name}", build, _image, f"timm.create_model({name!r})(x)")


TARGETS: dict[str, Target] = {t.name: t for t in [
    *(_vision(n) for n in ("alexnet", "resnet18", "vgg16_bn", "mobilenet_v3_small", "vit_b_16")),
    Target("lstm", lambda: nn.LSTM(10, 20, num_layers=2), lambda: (torch.randn(5, 3, 10),),
           "nn.LSTM(10, 20, num_layers=2)(x)"),
    Target("gru", lambda: nn.GRU(10, 20), lambda: (torch.randn(5, 3, 10),), "nn.GRU(10, 20)(x)"),
    Target("rnn", lambda: nn.RNN(10, 20), lambda: (torch.randn(5, 3, 10),), "nn.RNN(10, 20)(x)"),
    Target("rnn_relu", lambda: nn.RNN(10, 20, num_layers=2, nonlinearity="relu"),
           lambda: (torch.randn(5, 3, 10),),
           "nn.RNN(10, 20, num_layers=2, nonlinearity='relu')(x)"),
    Target("lstm_bidirectional", lambda: nn.LSTM(10, 20, bidirectional=True, batch_first=True),
           lambda: (torch.randn(3, 5, 10),),
           "nn.LSTM(10, 20, bidirectional=True, batch_first=True)(x)"),
    Target("batchnorm2d", lambda: nn.BatchNorm2d(16), lambda: (torch.randn(2, 16, 8, 8),),
           "nn.BatchNorm2d(16)(x)"),
    Target("layernorm", lambda: nn.LayerNorm(32), lambda: (torch.randn(2, 5, 32),),
           "nn.LayerNorm(32)(x)"),
    Target("multiheadattention", lambda: nn.MultiheadAttention(32, 4, batch_first=True),
           lambda: (torch.randn(2, 5, 32),) * 3,
           "nn.MultiheadAttention(32, 4, batch_first=True)(x, x, x, need_weights=False)",
           {"need_weights": False}),
    # the need_weights branch (bmm/baddbmm, softmax, dropout), sequence-first input
    Target("mha_weights", lambda: nn.MultiheadAttention(32, 4, dropout=0.1),
           lambda: (torch.randn(5, 2, 32),) * 3,
           "nn.MultiheadAttention(32, 4, dropout=0.1)(x, x, x)"),
    Target("transformerencoderlayer",
           lambda: nn.TransformerEncoderLayer(32, 4, dim_feedforward=64, dropout=0.0,
                                              batch_first=True),
           lambda: (torch.randn(2, 5, 32),),
           "nn.TransformerEncoderLayer(32, 4, dim_feedforward=64, dropout=0.0, "
           "batch_first=True)(x)"),
    # gen5a: torchvision classification CNNs (SiLU, squeeze-excitation, stochastic depth,
    # channel shuffle, densely joined features, grouped and depthwise 7x7 convolutions)
    *(_vision(n) for n in ("squeezenet1_0", "shufflenet_v2_x0_5", "mnasnet0_5",
                           "efficientnet_b0", "regnet_y_400mf", "googlenet", "densenet121",
                           "resnext50_32x4d", "convnext_tiny")),
    # -- mod5: single torch.nn modules (issue 12 item 6) --
    *(_single(name, call, shape) for name, call, shape in (
        ("groupnorm", "nn.GroupNorm(4, 16)", (2, 16, 8, 8)),
        ("instancenorm2d", "nn.InstanceNorm2d(16)", (2, 16, 8, 8)),
        ("batchnorm1d_3d", "nn.BatchNorm1d(16)", (2, 16, 10)),
        ("conv1d", "nn.Conv1d(8, 16, 3)", (2, 8, 20)),
        ("conv3d", "nn.Conv3d(4, 8, 3)", (2, 4, 6, 6, 6)),
        ("conv2d_depthwise", "nn.Conv2d(16, 16, 3, padding=1, groups=16)", (2, 16, 8, 8)),
        ("convtranspose2d", "nn.ConvTranspose2d(8, 16, 3, stride=2)", (2, 8, 8, 8)),
        ("convtranspose2d_groups",
         "nn.ConvTranspose2d(8, 16, 3, stride=2, groups=2, output_padding=1)", (2, 8, 8, 8)),
        ("gelu", "nn.GELU()", (2, 16, 8, 8)),
        ("gelu_tanh", "nn.GELU(approximate='tanh')", (2, 16, 8, 8)),
        ("silu", "nn.SiLU()", (2, 16, 8, 8)),
        ("hardswish", "nn.Hardswish()", (2, 16, 8, 8)),
        ("hardsigmoid", "nn.Hardsigmoid()", (2, 16, 8, 8)),
        ("sigmoid", "nn.Sigmoid()", (2, 16, 8, 8)),
        ("tanh", "nn.Tanh()", (2, 16, 8, 8)),
        ("softmax", "nn.Softmax(dim=-1)", (2, 5, 32)),
        ("logsoftmax", "nn.LogSoftmax(dim=-1)", (2, 5, 32)),
        ("leakyrelu", "nn.LeakyReLU(0.1)", (2, 16, 8, 8)),
        ("elu", "nn.ELU()", (2, 16, 8, 8)),
        ("prelu", "nn.PReLU()", (2, 16, 8, 8)),
        ("relu6", "nn.ReLU6()", (2, 16, 8, 8)),
        ("upsample_nearest", "nn.Upsample(scale_factor=2, mode='nearest')", (2, 8, 8, 8)),
        ("upsample_bilinear",
         "nn.Upsample(scale_factor=2, mode='bilinear', align_corners=False)", (2, 8, 8, 8)),
        ("avgpool2d", "nn.AvgPool2d(2)", (2, 8, 8, 8)),
        ("maxpool1d", "nn.MaxPool1d(2)", (2, 8, 20)),
        ("adaptivemaxpool2d", "nn.AdaptiveMaxPool2d((3, 3))", (2, 8, 8, 8)),
        ("pixelshuffle", "nn.PixelShuffle(2)", (2, 16, 8, 8)),
        ("flatten_linear", "nn.Sequential(nn.Flatten(), nn.Linear(40, 16))", (2, 5, 8)),
        ("linear_3d", "nn.Linear(8, 16)", (2, 5, 8)),
        ("dropout2d", "nn.Dropout2d(0.5)", (2, 16, 8, 8)),
    )),
    Target("transformerdecoderlayer",
           lambda: nn.TransformerDecoderLayer(32, 4, dim_feedforward=64, dropout=0.0,
                                              batch_first=True),
           lambda: (torch.randn(2, 5, 32),) * 2,
           "nn.TransformerDecoderLayer(32, 4, dim_feedforward=64, dropout=0.0, "
           "batch_first=True)(x, x)", input_grad=True),
    Target("embedding", lambda: nn.Embedding(50, 16), lambda: (torch.randint(0, 50, (2, 5)),),
           "nn.Embedding(50, 16)(x)"),
    Target("embedding_padding", lambda: nn.Embedding(50, 16, padding_idx=0),
           lambda: (torch.randint(0, 50, (2, 5)),), "nn.Embedding(50, 16, padding_idx=0)(x)"),
    Target("embeddingbag_mean", lambda: nn.EmbeddingBag(50, 16, mode="mean"),
           lambda: (torch.randint(0, 50, (2, 5)),), "nn.EmbeddingBag(50, 16, mode='mean')(x)"),
    # gen5b: torchvision transformer, segmentation and video models; timm models
    _vision("swin_t"),
    *(_segmentation(n) for n in ("lraspp_mobilenet_v3_large", "deeplabv3_mobilenet_v3_large")),
    Target("r3d_18", lambda: torchvision.models.get_model("r3d_18", weights=None), _video,
           "model(x)"),
    *(_timm(n) for n in ("resnet18", "vit_tiny_patch16_224", "convnext_atto")),
]}

SETTINGS = [{"backend": "CPU", "dtype": "float32", "mode": mode, "mkldnn": mkldnn, "grad": True}
            for mode in ("train", "eval") for mkldnn in (True, False)]


# -- scoping every module call in a record_function ----------------------------------------

def _scope_modules(model: nn.Module) -> list[Any]:
    """Open `layer:<path>` on each module's forward pre-hook and close it in the post hook.

    Every module gets a scope, not only leaves: ops directly under a non-leaf scope are the
    functional steps of that module's forward. A stack per module survives re-entrant calls.
    """
    handles = []
    for path, module in model.named_modules():
        stack: list[Any] = []

        def pre(_m: nn.Module, _args: Any, path: str = path, stack: list[Any] = stack) -> None:
            rf = record_function(LAYER + path)
            rf.__enter__()
            stack.append(rf)

        def post(_m: nn.Module, _args: Any, _out: Any, stack: list[Any] = stack) -> None:
            stack.pop().__exit__(None, None, None)

        handles.append(module.register_forward_pre_hook(pre))
        handles.append(module.register_forward_hook(post))
    return handles


# -- reading the profiler's event tree ---------------------------------------------------------

def _children(event: Any) -> list[Any]:
    return sorted(event.cpu_children, key=lambda e: (e.time_range.start, -e.time_range.end))


def _roots(events: Iterable[Any]) -> list[Any]:
    roots = [e for e in events if e.cpu_parent is None]
    return sorted(roots, key=lambda e: (e.time_range.start, -e.time_range.end))


def _owner_key(path: str, leaves: set[str]) -> str:
    return path if path in leaves else path + FUNCTIONAL


# An op is (name, children); a layer's trace is a list of ops.
Op = tuple[str, list[Any]]


def _aten_tree(event: Any) -> list[Op]:
    """The aten ops nested under `event`, skipping non-aten events in between."""
    ops: list[Op] = []
    for child in _children(event):
        if child.name.startswith("aten::"):
            ops.append((child.name, _aten_tree(child)))
        else:
            ops.extend(_aten_tree(child))
    return ops


def _collect_forward(event: Any, owner: str | None, leaves: set[str],
                     out: dict[str, list[Op]], seq_owner: dict[int, str]) -> None:
    """Attribute aten ops to their innermost `layer:` scope; remember which key created which
    autograd sequence number (the last forward op carrying a number is the one whose node
    took it: the counter only moves when a node is created)."""
    name = event.name
    if name.startswith(LAYER):
        owner = _owner_key(name[len(LAYER):], leaves)
    elif name.startswith("aten::") and owner is not None:
        out.setdefault(owner, []).append((name, _aten_tree(event)))
        _note_sequence_numbers(event, owner, seq_owner)
        return
    for child in _children(event):
        _collect_forward(child, owner, leaves, out, seq_owner)


def _note_sequence_numbers(event: Any, owner: str, seq_owner: dict[int, str]) -> None:
    if event.sequence_nr >= 0:
        seq_owner[event.sequence_nr] = owner
    for child in _children(event):
        _note_sequence_numbers(child, owner, seq_owner)


def _collect_backward(event: Any, seq_owner: dict[int, str], out: dict[str, list[Op]]) -> None:
    """`evaluate_function: XBackward0` carries the sequence number of the forward op that
    created node X; the node (depth 0) and its ops go to that op's layer."""
    if event.name.startswith(NODE_EVENT):
        owner = seq_owner.get(event.sequence_nr)
        if owner is not None:  # AccumulateGrad (-1) and the loss's own nodes have no layer
            out.setdefault(owner, []).append((event.name[len(NODE_EVENT):], _aten_tree(event)))
        return
    for child in _children(event):
        _collect_backward(child, seq_owner, out)


# -- compact lines -----------------------------------------------------------------------------

MIN_REPEATS = 4  # shorter runs stay written out
MAX_BLOCK = 8  # longest run of sibling ops looked for


def flatten(ops: list[Op], depth: int = 0) -> list[str]:
    """`"<depth>:<name>"` lines in call order. A run of >= MIN_REPEATS identical blocks of up
    to MAX_BLOCK sibling subtrees is written once, after a `"<depth>:repeat <n>x<len>"` line."""
    subtrees = [[f"{depth}:{name}", *flatten(children, depth + 1)] for name, children in ops]
    keys = [tuple(t) for t in subtrees]
    lines: list[str] = []
    i = 0
    while i < len(keys):
        count, size = _longest_run(keys, i)
        if count >= MIN_REPEATS:
            lines.append(f"{depth}:repeat {count}x{size}")
        else:
            count, size = 1, 1
        for tree in subtrees[i:i + size]:
            lines.extend(tree)
        i += count * size
    return lines


def _longest_run(keys: list[tuple[str, ...]], i: int) -> tuple[int, int]:
    """(repeats, block length) of the block at `i` that covers the most siblings."""
    best = (1, 1)
    for size in range(1, min(MAX_BLOCK, (len(keys) - i) // 2) + 1):
        block, count = keys[i:i + size], 1
        while keys[i + count * size:i + (count + 1) * size] == block:
            count += 1
        if count >= 2 and count * size > best[0] * best[1]:
            best = (count, size)
    return best


# -- one run, one target -----------------------------------------------------------------------

@contextmanager
def _mkldnn(enabled: bool) -> Iterator[None]:
    with torch.backends.mkldnn.flags(enabled=enabled):
        yield


def _loss(output: Any) -> torch.Tensor:
    """The sum of every tensor of the output: a tuple's items, a dict's values (a
    segmentation model returns `OrderedDict(out=...[, aux=...])`)."""
    if isinstance(output, dict):
        output = tuple(output.values())
    if isinstance(output, tuple):
        return sum((_loss(o) for o in output if o is not None), torch.zeros(()))
    return output.sum()


def _step(model: nn.Module, inputs: tuple[torch.Tensor, ...], kwargs: dict[str, Any]) -> None:
    model.zero_grad(set_to_none=True)
    _loss(model(*inputs, **kwargs)).backward()


def _layer_keys(model: nn.Module) -> list[tuple[str, str, bool]]:
    """(path, type, is_leaf) in named_modules order."""
    return [(p, f"{type(m).__module__}.{type(m).__qualname__}", not any(m.children()))
            for p, m in model.named_modules()]


def record_run(target: Target, setting: dict[str, Any]) -> dict[str, Any]:
    torch.manual_seed(SEED)
    model = target.build()
    model.train(setting["mode"] == "train")
    inputs = target.inputs()
    if target.input_grad:
        inputs = tuple(t.requires_grad_() if t.is_floating_point() else t for t in inputs)
    keys = _layer_keys(model)
    leaves = {p for p, _, leaf in keys if leaf}
    # No warm-up step: one made no difference to any trace (checked on the small targets and
    # resnet18) and doubled the recording time.
    with _mkldnn(setting["mkldnn"]):
        handles = _scope_modules(model)
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            _step(model, inputs, target.kwargs)
        for handle in handles:
            handle.remove()
    forward: dict[str, list[Op]] = {}
    backward: dict[str, list[Op]] = {}
    seq_owner: dict[int, str] = {}
    roots = _roots(e for e in prof.events() if e.thread == _main_thread(prof.events()))
    for root in roots:
        _collect_forward(root, None, leaves, forward, seq_owner)
    for root in roots:
        _collect_backward(root, seq_owner, backward)
    calls = _count_calls(prof.events())
    layers = []
    for path, type_name, leaf in keys:
        key = _owner_key(path, leaves)
        if leaf or key in forward or key in backward:
            layers.append({"path": key, "type": type_name, "calls": calls.get(path, 0),
                           "forward": flatten(forward.get(key, [])),
                           "backward": flatten(backward.get(key, []))})
    return {"setting": setting, "layers": layers}


def _main_thread(events: Any) -> int:
    """The thread that ran the model (the autograd engine runs CPU backward on it too)."""
    return next(e.thread for e in events if e.name.startswith(LAYER))


def _count_calls(events: Any) -> dict[str, int]:
    calls: dict[str, int] = {}
    for e in events:
        if e.name.startswith(LAYER):
            calls[e.name[len(LAYER):]] = calls.get(e.name[len(LAYER):], 0) + 1
    return calls


def record_target(target: Target) -> dict[str, Any]:
    torch.manual_seed(SEED)
    shapes = [list(t.shape) for t in target.inputs()]
    data = {"schema": SCHEMA, "torch": torch.__version__, "torchvision": torchvision.__version__,
            "target": target.name, "call": target.call, "input": shapes,
            "runs": [record_run(target, s) for s in SETTINGS]}
    if target.input_grad:
        data["input_grad"] = True
    return data


def dump(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=1, sort_keys=True) + "\n"


def main(argv: list[str]) -> int:
    out_dir, names = Path(argv[0]), argv[1:] or list(TARGETS)
    torch.set_num_threads(2)
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in names:
        start = time.perf_counter()
        text = dump(record_target(TARGETS[name]))
        (out_dir / f"{name}.json").write_text(text, encoding="utf-8")
        print(f"{name}: {len(text) / 1e3:.0f} kB in {time.perf_counter() - start:.1f} s",
              file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
