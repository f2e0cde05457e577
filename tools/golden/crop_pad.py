#!/usr/bin/env python3
"""Golden numbers for mixlab's crop padding (crates/mixlab-burn/src/trainer.rs,
`crop_pads_with_a_black_pixel_as_torchvision`).

torchvision's CIFAR recipe is `RandomCrop(32, padding=4)` on the raw image, then `ToTensor`, then
`Normalize(mean, std)`: the padded border is a raw 0 pixel, so after normalisation it reads -mean/std.
mixlab standardises first and crops afterwards, padding with the standardised value of a raw 0.

This takes a 2x4x3 image of raw values (k+1)/32, pads and crops it with torchvision at the offset
(top=2, left=5) of the padded image, flips it horizontally, normalises, and prints the result.

    python3 tools/golden/crop_pad.py      # torch 2.15.0, torchvision 0.29.2
"""
import torch
import torchvision.transforms.v2.functional as F

C, H, W = 2, 4, 3
mean, std = [0.25, 0.5], [0.2, 0.3]
img = (torch.arange(C * H * W, dtype=torch.float32) + 1.0).reshape(C, H, W) / 32.0
padded = F.pad(img, [4, 4, 4, 4], fill=0.0)
crop = F.crop(padded, top=2, left=5, height=H, width=W)
out = F.normalize(F.horizontal_flip(crop), mean=mean, std=std)
print("raw:", [round(v, 8) for v in img.flatten().tolist()])
print("expected:", [round(v, 7) for v in out.flatten().tolist()])
