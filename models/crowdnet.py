"""crowdline-v1 network definition (shared by train.py, export.py, eval.py).

A small fully convolutional density-map network designed for from-scratch
training and CPU inference:

  stride 2  conv3x3 3->c1                          (stem)
  stride 4  conv3x3 c1->c2, conv3x3 c2->c2
  stride 8  conv3x3 c2->c3, conv3x3 c3->c3          = f8  (local features)
  stride 16 conv3x3 c3->c4, dilated conv3x3 (d=2), dilated conv3x3 (d=4)
            = context branch, receptive field ~ 300 px
  stride 8  f8 + 1x1(upsample(context))  -> conv3x3 c3->c3 (d=1)
            -> conv3x3 c3->c5 (d=2) -> 1x1 c5->1 -> ReLU  = density

Every conv is followed by BatchNorm + ReLU (BN is folded into the conv
weights on ONNX export, eval mode).  Output: N x 1 x ceil(H/8) x ceil(W/8);
count = sum(density) * COUNT_SCALE.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

STRIDE = 8
DENSITY_SCALE = 100.0          # training targets are density * 100
COUNT_SCALE = 1.0 / DENSITY_SCALE
MEAN = (0.485, 0.456, 0.406)   # RGB, on pixel / 255
STD = (0.229, 0.224, 0.225)


def cbr(cin, cout, stride=1, dil=1, k=3):
    pad = dil * (k // 2)
    return nn.Sequential(
        nn.Conv2d(cin, cout, k, stride=stride, padding=pad, dilation=dil, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


class CrowdNet(nn.Module):
    def __init__(self, c1=16, c2=32, c3=48, c4=96, c5=32):
        super().__init__()
        self.s2 = cbr(3, c1, stride=2)
        self.s4 = nn.Sequential(cbr(c1, c2, stride=2), cbr(c2, c2))
        self.s8 = nn.Sequential(cbr(c2, c3, stride=2), cbr(c3, c3))
        self.s16 = nn.Sequential(cbr(c3, c4, stride=2), cbr(c4, c4, dil=2), cbr(c4, c4, dil=4))
        self.lat = nn.Sequential(nn.Conv2d(c4, c3, 1, bias=False), nn.BatchNorm2d(c3))
        self.head = nn.Sequential(cbr(c3, c3), cbr(c3, c5, dil=2))
        self.out = nn.Conv2d(c5, 1, 1)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
        nn.init.normal_(self.out.weight, std=0.01)
        nn.init.constant_(self.out.bias, 0.01)

    def forward(self, x):
        f8 = self.s8(self.s4(self.s2(x)))
        ctx = self.lat(self.s16(f8))
        ctx = F.interpolate(ctx, size=f8.shape[-2:], mode="bilinear", align_corners=False)
        y = self.head(F.relu(f8 + ctx))
        return F.relu(self.out(y))


def n_params(model):
    return sum(p.numel() for p in model.parameters())
