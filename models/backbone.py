"""MobileNetV2-1.0 backbone with MoveNet-Lightning's pretrained weights (crowdline-v2).

The layer layout is torchvision's MobileNetV2 (stem, 17 inverted-residual
blocks, Conv_1); the weights come from MoveNet's TF.js graph, where every
BatchNorm is already folded into its convolution, so every conv here has a
bias and no BatchNorm follows it. Two details follow TensorFlow so that the
converted weights compute exactly what the original graph computes:

* stride-2 convolutions pad "SAME" the TensorFlow way: for even input sizes
  one extra row/column at the bottom/right, none at the top/left (PyTorch's
  symmetric padding would shift every feature by one pixel);
* activations are ReLU6.

Input normalisation is MoveNet's: x = pixel / 127.5 - 1 (RGB), i.e. the
manifest's pixelScale 1/255 with mean = std = 0.5.
"""
import torch.nn as nn
import torch.nn.functional as F

MEAN = (0.5, 0.5, 0.5)   # RGB, on pixel / 255: x = p / 127.5 - 1
STD = (0.5, 0.5, 0.5)

# (expansion t, output channels c, repeats n, first stride s): MobileNetV2-1.0
CONFIG = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
          (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]


class TFConv(nn.Conv2d):
    """Conv2d with TensorFlow 'SAME' padding for stride 2 (pad bottom/right), bias always on."""

    def __init__(self, cin, cout, k, stride=1, groups=1):
        super().__init__(cin, cout, k, stride=stride, padding=0 if stride > 1 else k // 2,
                         groups=groups, bias=True)

    def forward(self, x):
        if self.stride[0] > 1:
            # TF SAME for k=3, s=2 on an even size pads one row/column after, none before.
            # (Constant so the ONNX graph stays static; odd sizes get TF's output size too.)
            x = F.pad(x, (0, 1, 0, 1))
        return super().forward(x)


class Block(nn.Module):
    """Inverted residual: [expand 1x1, ReLU6], depthwise 3x3 (stride), ReLU6, project 1x1 (linear)."""

    def __init__(self, cin, cout, stride, t):
        super().__init__()
        hid = cin * t
        self.expand = TFConv(cin, hid, 1) if t != 1 else None
        self.depthwise = TFConv(hid, hid, 3, stride=stride, groups=hid)
        self.project = TFConv(hid, cout, 1)
        self.residual = stride == 1 and cin == cout

    def forward(self, x):
        y = F.relu6(self.expand(x)) if self.expand is not None else x
        y = self.project(F.relu6(self.depthwise(y)))
        return x + y if self.residual else y


def block_specs():
    """[(cin, cout, stride, t)] for blocks 0..16 (block 0 is TF's 'expanded_conv')."""
    specs, cin = [], 32
    for t, c, n, s in CONFIG:
        for i in range(n):
            specs.append((cin, c, s if i == 0 else 1, t))
            cin = c
    return specs


class MobileNetV2(nn.Module):
    """Stem + blocks 0..last_block (inclusive); with_conv1 adds Conv_1 (1x1 -> 1280, stride 32).

    forward(x) returns a dict {block index: output} for the indices in `taps`
    ("conv1" for Conv_1's output).
    """

    def __init__(self, last_block=16, with_conv1=False, taps=(16,)):
        super().__init__()
        self.stem = TFConv(3, 32, 3, stride=2)
        self.blocks = nn.ModuleList(Block(*s) for s in block_specs()[:last_block + 1])
        self.conv1 = TFConv(320, 1280, 1) if with_conv1 else None
        self.taps = tuple(taps)

    def forward(self, x):
        out = {}
        x = F.relu6(self.stem(x))
        for i, b in enumerate(self.blocks):
            x = b(x)
            if i in self.taps:
                out[i] = x
        if self.conv1 is not None:
            out["conv1"] = F.relu6(self.conv1(x))
        return out


def block_stride(i):
    """Output stride of block i."""
    s = 2
    for (_, _, st, _) in block_specs()[:i + 1]:
        s *= st
    return s
