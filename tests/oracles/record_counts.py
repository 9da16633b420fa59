"""Records, from real torch, parameter counts and multiply-accumulates of timm and torchvision
classification models (FlopCounterMode, eval mode, grad on, batch 1).

Run by the oracle venv's python (it imports torch; docgen never does):

    python tests/oracles/record_counts.py OUT_DIR [--timm NAME ...] [--torchvision NAME ...]

Writes OUT_DIR/timm-<version>.json and OUT_DIR/torchvision-<version>.json; naming models
restricts the run to them (the files then hold only those). Conventions are in README.md.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode, sdpa_flop_count
from torchenv import import_torchvision

torchvision = import_torchvision()
import timm  # noqa: E402  (after torchvision's import shim)

SCHEMA = 1
SEED = 0

TIMM_MODELS = [
    "resnet18", "resnet50", "resnext50_32x4d", "seresnet50", "efficientnet_b0",
    "mobilenetv3_large_100", "mobilenetv2_100", "convnext_tiny", "vit_small_patch16_224",
    "deit_tiny_patch16_224", "swin_tiny_patch4_window7_224", "regnetx_002", "regnety_004",
    "densenet121", "cspresnet50", "cspdarknet53", "mixer_b16_224", "resmlp_12_224",
    "ghostnet_100", "mnasnet_100", "dla34", "dpn68", "hrnet_w18_small", "inception_v3",
    "xception41", "levit_128s", "poolformer_s12", "crossvit_tiny_240", "coat_lite_tiny",
    "efficientformer_l1", "mobilevit_xxs", "repvgg_a0", "rexnet_100", "tf_efficientnet_lite0",
    "lcnet_050", "edgenext_xx_small", "convmixer_768_32", "beit_base_patch16_224",
    # more families, recorded 2026-11-30 (issue 13)
    "botnet26t_256", "caformer_s18", "cait_xxs24_224", "coatnet_0_rw_224", "convit_tiny",
    "convnextv2_atto", "cs3darknet_s", "davit_tiny", "deit3_small_patch16_224", "dm_nfnet_f0",
    "eca_nfnet_l0", "efficientformerv2_s0", "efficientvit_b0", "efficientvit_m0",
    "ese_vovnet19b_dw", "eva02_tiny_patch14_224", "fasternet_t0", "fastvit_t8", "fbnetc_100",
    "flexivit_small", "focalnet_tiny_srf", "gcvit_xxtiny", "gernet_s", "ghostnetv2_100",
    "gmlp_s16_224", "halonet26t", "hardcorenas_a", "hgnetv2_b0", "hiera_tiny_224",
    "inception_next_tiny", "inception_v4", "lambda_resnet26t", "mambaout_femto",
    "maxvit_tiny_tf_224", "mixnet_s", "mobilenetv4_conv_small", "mobileone_s0",
    "mobilevitv2_050", "mvitv2_tiny", "nest_tiny", "nextvit_small", "pit_ti_224", "pvt_v2_b0",
    "rdnet_tiny", "regnety_016", "regnetz_b16", "repghostnet_050", "repvit_m1",
    "res2net50_14w_8s", "resnest14d", "resnetv2_50", "selecsls42b", "sequencer2d_s",
    "skresnet18", "starnet_s1", "tf_efficientnetv2_b0", "tiny_vit_5m_224", "tnt_s_patch16_224",
    "tresnet_m", "twins_svt_small", "vgg11", "visformer_tiny", "vit_tiny_patch16_224",
    "volo_d1_224", "xcit_nano_12_p16_224",
]

# Builders left out of the torchvision file: the largest, to keep its recording time down.
TORCHVISION_EXCLUDED = {
    "vit_h_14": "632M parameters, 518x518 input",
    "vit_l_16": "304M parameters, 512x512 input",
    "vit_l_32": "306M parameters",
    "regnet_y_128gf": "645M parameters, 384x384 input",
    "regnet_y_32gf": "145M parameters, 384x384 input",
    "regnet_y_16gf": "84M parameters, 384x384 input",
    "efficientnet_v2_l": "119M parameters, 56.1 GMACs at 480x480",
    "efficientnet_v2_m": "54M parameters, 24.6 GMACs at 480x480",
    "efficientnet_b6": "43M parameters, 19.1 GMACs at 528x528",
    "efficientnet_b7": "66M parameters, 37.7 GMACs at 600x600",
    "convnext_large": "198M parameters, 34.4 GMACs at 224x224",
    "regnet_x_32gf": "108M parameters, 31.7 GMACs at 224x224",
    "regnet_x_16gf": "54M parameters, 15.9 GMACs at 224x224",
    "swin_v2_b": "88M parameters, 20.3 GMACs at 256x256",
    "swin_v2_s": "50M parameters, 11.5 GMACs at 256x256",
    "swin_b": "88M parameters, 15.4 GMACs at 224x224",
    "resnext101_64x4d": "83M parameters, 15.5 GMACs at 224x224",
    "resnext101_32x8d": "89M parameters, 16.4 GMACs at 224x224",
    "wide_resnet101_2": "127M parameters, 22.8 GMACs at 224x224",
    "resnet152": "60M parameters, 11.5 GMACs at 224x224",
}

CONV_LINEAR = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d,
               nn.ConvTranspose3d, nn.Linear)


def _sdpa_cpu_flop(query_shape: Any, key_shape: Any, value_shape: Any, *args: Any,
                   out_shape: Any = None, **kwargs: Any) -> int:
    """FlopCounterMode's own sdpa formula for the CPU kernel it has no entry for."""
    return sdpa_flop_count(query_shape, key_shape, value_shape)


CUSTOM_FLOPS = {torch.ops.aten._scaled_dot_product_flash_attention_for_cpu: _sdpa_cpu_flop}


def count_model(model: nn.Module, input_size: tuple[int, ...]) -> dict[str, Any]:
    """num_params, MACs (flops / 2) in total, per aten operator, and in conv / linear modules."""
    model.eval()
    torch.manual_seed(SEED)
    x = torch.randn(1, *input_size)
    counter = FlopCounterMode(display=False, custom_mapping=CUSTOM_FLOPS)
    # Grad stays on: under no_grad nn.MultiheadAttention takes its fused fast path
    # (aten._native_multi_head_attention), which FlopCounterMode counts as 0 MACs.
    with torch.enable_grad(), counter:
        model(x)
    counts = counter.get_flop_counts()
    by_op = {str(op): flops // 2 for op, flops in counts.get("Global", {}).items()}
    root = type(model).__name__
    conv_linear = sum(sum(counts.get(f"{root}.{name}", {}).values())
                      for name, m in model.named_modules() if isinstance(m, CONV_LINEAR))
    return {"input": [1, *input_size],
            "num_params": sum(p.numel() for p in model.parameters()),
            "macs": sum(by_op.values()), "macs_by_op": dict(sorted(by_op.items())),
            "macs_conv_linear": conv_linear // 2}


def _timed(name: str, fn: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    start = time.perf_counter()
    entry = fn()
    print(f"{name}: {time.perf_counter() - start:.1f} s", file=sys.stderr)
    return entry


def record_timm(names: list[str]) -> dict[str, Any]:
    def one(name: str) -> dict[str, Any]:
        torch.manual_seed(SEED)
        model = timm.create_model(name, pretrained=False)
        entry = count_model(model, tuple(model.pretrained_cfg["input_size"]))
        entry["type"] = f"{type(model).__module__}.{type(model).__qualname__}"
        return entry

    return {"schema": SCHEMA, "library": "timm", "timm": timm.__version__,
            "torch": torch.__version__, "call": "timm.create_model(name, pretrained=False)",
            "models": {n: _timed(n, lambda n=n: one(n)) for n in names}}


def record_torchvision(names: list[str]) -> dict[str, Any]:
    def one(name: str) -> dict[str, Any]:
        torch.manual_seed(SEED)
        weights = torchvision.models.get_model_weights(name).DEFAULT
        crop = weights.transforms().crop_size[0]
        model = torchvision.models.get_model(name, weights=None)
        entry = count_model(model, (3, crop, crop))
        entry["type"] = f"{type(model).__module__}.{type(model).__qualname__}"
        entry["weights"] = str(weights)
        entry["meta"] = {k: weights.meta[k] for k in ("_ops", "num_params") if k in weights.meta}
        return entry

    return {"schema": SCHEMA, "library": "torchvision", "torchvision": torchvision.__version__,
            "torch": torch.__version__,
            "call": "torchvision.models.get_model(name, weights=None), input from the DEFAULT "
                    "weights' crop size",
            "excluded": TORCHVISION_EXCLUDED,
            "models": {n: _timed(n, lambda n=n: one(n)) for n in names}}


def torchvision_names() -> list[str]:
    names = torchvision.models.list_models(module=torchvision.models)
    return sorted(n for n in names if n not in TORCHVISION_EXCLUDED)


def dump(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=1, sort_keys=True) + "\n"


def _parse(argv: list[str]) -> tuple[Path, dict[str, list[str]]]:
    out_dir, picked, current = Path(argv[0]), {}, None
    for arg in argv[1:]:
        if arg in ("--timm", "--torchvision"):
            current = picked.setdefault(arg[2:], [])
        elif current is None:
            raise SystemExit(f"usage: {__doc__}")
        else:
            current.append(arg)
    return out_dir, picked


def main(argv: list[str]) -> int:
    out_dir, picked = _parse(argv)
    torch.set_num_threads(2)
    out_dir.mkdir(parents=True, exist_ok=True)
    outputs = {"timm": lambda: record_timm(picked.get("timm") or TIMM_MODELS),
               "torchvision": lambda: record_torchvision(picked.get("torchvision")
                                                         or torchvision_names())}
    for library, record in outputs.items():
        if picked and library not in picked:
            continue
        data = record()
        version = data[library].split("+")[0]  # PyPI's torchvision says 0.28.0+cu130
        (out_dir / f"{library}-{version}.json").write_text(dump(data), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
