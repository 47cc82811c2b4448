"""The crowdline networks by short name, with what train/export/eval need to
know about each: constructor, input normalisation, size multiple,
checkpoint folder and training defaults."""
import os
from dataclasses import dataclass, field
from typing import Callable

import torch.nn as nn

import backbone
import crowdnet
from crowdnet_v2 import SIZE_MULTIPLE as V2_MULTIPLE, CrowdNetV2

HERE = os.path.dirname(os.path.abspath(__file__))


@dataclass(frozen=True)
class Net:
    name: str
    make: Callable[[], nn.Module]
    mean: tuple
    std: tuple
    size_multiple: int
    ckpt_dir: str
    description: str
    train_defaults: dict = field(default_factory=dict)
    # train.py options that shape the network: {option name: constructor keyword}. They are
    # saved with every checkpoint; a checkpoint without one was made with the constructor default.
    arch: dict = field(default_factory=dict)

    def build(self, args=None):
        """The network for a checkpoint's (or a command line's) saved `args` dict."""
        args = args or {}
        return self.make(**{kw: args[opt] for opt, kw in self.arch.items() if opt in args})


NETS = {
    "crowdline-v1": Net(
        "crowdline-v1", crowdnet.CrowdNet, crowdnet.MEAN, crowdnet.STD, 8,
        os.path.join(HERE, "checkpoints"),
        "Small from-scratch crowd density CNN (stride 8, ~0.3M params) trained on "
        "ShanghaiTech B + Beijing BRT; count = sum(density) * countScale."),
    "crowdline-v2": Net(
        "crowdline-v2", CrowdNetV2, backbone.MEAN, backbone.STD, V2_MULTIPLE,
        os.path.join(HERE, "checkpoints", "v2"),
        "MobileNetV2 (MoveNet-Lightning person features, cut at stride 16) + density decoder "
        "(stride 8) trained on ShanghaiTech A + B and Beijing BRT; count = sum(density) * countScale.",
        # Pretrained backbone: shorter schedule; the stride-2/4 blocks stay frozen (generic edges,
        # and most of the CPU cost of a backward pass), the rest is tuned at 1/10 of the decoder's LR.
        {"lr": 1e-3, "steps": 4000, "freeze_through": 2, "backbone_lr_mult": 0.1},
        {"decoder_width": "width", "out_gain": "out_gain"}),
}
