"""crowdline-v2 network: MoveNet's pretrained MobileNetV2 cut at stride 16 plus
a light density decoder to the stride-8 map.

  backbone (backbone.MobileNetV2, MoveNet-Lightning weights)
    block 5   stride 8,  32 ch  = f8  (local detail)
    block 12  stride 16, 96 ch  -> conv3x3 96->48 dilation 2   = context
  decoder   stride 8: BN(1x1 32->48)(f8) + bilinear upsample(context) -> ReLU
            conv3x3 48->48, conv3x3 48->32 dilation 2, conv1x1 32->1, ReLU = density

Output N x 1 x H/8 x W/8 for sizes that are multiples of 16 (sizeMultiple 16);
count = sum(density) * COUNT_SCALE as for v1. `width` (48 above) and `out_gain`
(a fixed multiplier on the output conv, 1 for the shipped weights) are
train.py's --decoder-width and --out-gain. The backbone convs carry MoveNet's
folded BatchNorm as biases; the decoder's BatchNorms are folded on export.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from backbone import MEAN, STD, MobileNetV2  # noqa: F401  (MEAN/STD: the v2 input normalisation)
from crowdnet import cbr

CUT = 12            # last backbone block (stride 16)
SKIP = 5            # stride-8 block feeding the decoder
SIZE_MULTIPLE = 16  # the network's total downsampling


class CrowdNetV2(nn.Module):
    def __init__(self, cut=CUT, width=48, out_gain=1.0):
        super().__init__()
        # out_gain multiplies the output conv: the density targets (x100) reach ~50 per cell in
        # dense crowds, and Adam moves a weight by about lr per step, so a fixed gain lets the
        # output reach that range in hundreds of steps rather than thousands.
        self.out_gain = float(out_gain)
        self.backbone = MobileNetV2(last_block=cut, taps=(SKIP, cut))
        self.cut = cut
        c8 = self.backbone.blocks[SKIP].project.out_channels
        c16 = self.backbone.blocks[cut].project.out_channels
        self.context = cbr(c16, width, dil=2)
        self.lat = nn.Sequential(nn.Conv2d(c8, width, 1, bias=False), nn.BatchNorm2d(width))
        self.head = nn.Sequential(cbr(width, width), cbr(width, 32, dil=2))
        self.out = nn.Conv2d(32, 1, 1)
        for m in [self.context, self.lat, self.head]:
            for c in m.modules():
                if isinstance(c, nn.Conv2d):
                    nn.init.kaiming_normal_(c.weight, mode="fan_out", nonlinearity="relu")
        nn.init.normal_(self.out.weight, std=0.01 / self.out_gain)
        nn.init.constant_(self.out.bias, 0.01 / self.out_gain)

    def load_backbone(self, path):
        """Load the converted MoveNet weights (models/work/movenet-mobilenetv2.pt, convert_movenet.py)."""
        sd = torch.load(path, map_location="cpu")["state_dict"]
        own = self.backbone.state_dict()
        self.backbone.load_state_dict({k: v for k, v in sd.items() if k in own})

    def backbone_params(self, first_block):
        """Backbone parameters from `first_block` on (earlier ones stay frozen)."""
        return [p for i, b in enumerate(self.backbone.blocks) if i >= first_block for p in b.parameters()]

    def forward(self, x):
        f = self.backbone(x)
        f8 = self.lat(f[SKIP])
        ctx = self.context(f[self.cut])
        ctx = F.interpolate(ctx, size=f8.shape[-2:], mode="bilinear", align_corners=False)
        y = self.out(self.head(F.relu(f8 + ctx)))
        return F.relu(y * self.out_gain if self.out_gain != 1.0 else y)
