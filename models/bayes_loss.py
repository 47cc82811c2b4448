"""Bayesian loss (Ma et al., "Bayesian Loss for Crowd Count Estimation with Point
Supervision", ICCV 2019), with its background term, on crowdline's stride-8 maps.

Each map cell's predicted count is shared among the head points (and one
background point per cell) by the posterior of a Gaussian around each head;
each head should then receive exactly one person and the background none. Unlike
pixel MSE against a blurred map, the target does not depend on how wide the blur
is, which is what a far, dense crowd (heads a few pixels apart) is most sensitive to.
"""
import torch

STRIDE = 8


def cell_centres(h, w, device):
    """(h*w) x 2 input-pixel (x, y) centres of a stride-8 map's cells: cell i is centred on
    input pixel (i + 0.5) * 8, as data.density_map splats points."""
    ys = (torch.arange(h, device=device, dtype=torch.float32) + 0.5) * STRIDE
    xs = (torch.arange(w, device=device, dtype=torch.float32) + 0.5) * STRIDE
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack([gx.reshape(-1), gy.reshape(-1)], dim=1)


def bayesian_loss(cell_counts, points, counts, sigma=8.0, background_dist=None):
    """Mean over crops of sum_n |1 - E[c_n]| + |E[c_bg]|, or of |sum of the map| for a crop
    without heads.

    cell_counts: B x 1 x H x W people per cell (the network's map times COUNT_SCALE);
    points: B x P x 2 head points in crop pixels, crop i's first counts[i] rows valid;
    counts: B head counts; sigma: the Gaussian's width in input pixels;
    background_dist: distance (input pixels) from the nearest head at which the background
    point sits (the paper's d, 0.15 x the crop side); None leaves the background term out.
    """
    b, _, h, w = cell_counts.shape
    m = cell_counts.reshape(b, 1, h * w)
    n = counts.round().long()
    valid = torch.arange(points.shape[1], device=points.device)[None, :] < n[:, None]   # B x P
    d2 = ((points[:, :, None, :] - cell_centres(h, w, points.device)[None, None]) ** 2).sum(-1)   # B x P x M
    d2 = d2.masked_fill(~valid[:, :, None], float("inf"))
    logits = -d2 / (2 * sigma * sigma)
    target = valid.float()
    if background_dist is not None:
        nearest = d2.min(dim=1, keepdim=True).values.clamp(min=0).sqrt()   # B x 1 x M
        bg = -((background_dist - nearest) ** 2) / (2 * sigma * sigma)
        logits = torch.cat([logits, bg], dim=1)
        target = torch.cat([target, torch.zeros(b, 1, device=target.device)], dim=1)
        valid = torch.cat([valid, torch.ones(b, 1, dtype=torch.bool, device=valid.device)], dim=1)
    has_heads = n > 0
    # rows of crops without heads are all -inf: give them zeros so softmax stays finite
    logits = torch.where(has_heads[:, None, None], logits, torch.zeros_like(logits))
    post = torch.softmax(logits, dim=1)                       # over heads (+ background), per cell
    expected = (post * m).sum(-1)                             # B x P(+1): people each head receives
    per_crop = ((target - expected).abs() * valid.float()).sum(-1)
    per_crop = torch.where(has_heads, per_crop, m.sum(dim=(1, 2)).abs())
    return per_crop.mean()


def _self_check():
    """`python3 models/bayes_loss.py`: the loss on maps whose answer is known."""
    m = torch.zeros(3, 1, 32, 32, requires_grad=True)
    with torch.no_grad():
        m[0, 0, 10, 20] = 1.0                      # one person, in the cell centred on (164, 84)
    pts = torch.zeros(3, 2, 2)
    pts[0, 0] = torch.tensor([164.0, 84.0])        # crop 0: that head, counted exactly
    pts[1] = torch.tensor([[100.0, 100.0], [30.0, 200.0]])   # crop 1: two heads, nothing counted
    counts = torch.tensor([1.0, 2.0, 0.0])         # crop 2: no heads, nothing counted
    for bg in (None, 0.15 * 256):
        loss = bayesian_loss(m, pts, counts, 8.0, bg)
        assert abs(float(loss) - 2 / 3) < 1e-4, float(loss)   # (0 + 2 + 0) / 3 crops
        loss.backward()
        assert torch.isfinite(m.grad).all()
        m.grad = None
    empty = torch.zeros(1, 1, 32, 32)
    empty[0, 0, 5, 5] = 3.0                        # three people counted where there are none
    assert abs(float(bayesian_loss(empty, torch.zeros(1, 1, 2), torch.zeros(1), 8.0, 38.4)) - 3) < 1e-6
    print("bayes_loss: self-check passed")


if __name__ == "__main__":
    _self_check()
