#!/usr/bin/env python3
"""PyTorch + timm training steps on the GPU, the recipes `mixlab train` runs in bench/gpu/run.sh, on 3×32×32:
mixlab's small CNN (conv 32, conv 64, each ReLU + max-pool, hidden 128; SGD lr 0.05, momentum 0.9, wd 5e-4) and the CIFAR
ResNet-18 (OpenMixup's ResNet_CIFAR: 3×3 stem, no max-pool, width 64; SGD 0.1, momentum 0.9, wd 1e-4), batch
128, timm `Mixup` (mixup α 1, batch mode) and SoftTargetCrossEntropy, the loss read back every step (mixlab's
trainer does too). Prints one JSON object: training samples/s per model, timed after a warm-up with the GPU
synchronised.

    python3 bench/gpu/torch_steps.py --steps 200 --json-out runs/torch_steps.json
"""

import argparse
import json
import time

import torch
import torch.nn as nn
import torch.nn.functional as F
from timm.data import Mixup
from timm.loss import SoftTargetCrossEntropy


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.c1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.b1 = nn.BatchNorm2d(cout)
        self.c2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.b2 = nn.BatchNorm2d(cout)
        self.short = None
        if stride != 1 or cin != cout:
            self.short = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        out = F.relu(self.b1(self.c1(x)))
        out = self.b2(self.c2(out))
        return F.relu(out + (x if self.short is None else self.short(x)))


def resnet18_cifar(width=64, classes=10):
    layers = [nn.Conv2d(3, width, 3, 1, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU()]
    cin = width
    for i, n in enumerate([2, 2, 2, 2]):
        cout = width * 2**i
        for j in range(n):
            layers.append(Block(cin, cout, 2 if (i > 0 and j == 0) else 1))
            cin = cout
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cin, classes)]
    return nn.Sequential(*layers)


def small_cnn(classes=10):
    return nn.Sequential(
        nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(64 * 8 * 8, 128), nn.ReLU(), nn.Linear(128, classes),
    )


def samples_per_s(model, shape, lr, wd, steps, warmup, device):
    model = model.to(device).train()
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=wd)
    mix = Mixup(mixup_alpha=1.0, cutmix_alpha=0.0, label_smoothing=0.0, num_classes=10)
    crit = SoftTargetCrossEntropy()
    x_pool = torch.rand((8 * shape[0],) + shape[1:], device=device)
    y_pool = torch.randint(0, 10, (8 * shape[0],), device=device)
    b = shape[0]

    def step(i):
        k = (i % 8) * b
        x, y = mix(x_pool[k:k + b].clone(), y_pool[k:k + b])
        loss = crit(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss.item()

    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    for i in range(warmup):
        step(i)
    sync()
    t0 = time.perf_counter()
    for i in range(steps):
        step(i)
    sync()
    return steps * b / (time.perf_counter() - t0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--warmup", type=int, default=30)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--device", default="cuda", help="cuda (the comparison) or cpu (a smoke test)")
    ap.add_argument("--json-out")
    a = ap.parse_args()
    dev = torch.device(a.device)
    out = {
        "device": torch.cuda.get_device_name(0) if dev.type == "cuda" else "cpu",
        "torch": torch.__version__,
        "cnn_samples_per_s": samples_per_s(small_cnn(), (a.batch, 3, 32, 32), 0.05, 5e-4, a.steps, a.warmup, dev),
        "resnet18_samples_per_s": samples_per_s(resnet18_cifar(), (a.batch, 3, 32, 32), 0.1, 1e-4, a.steps, a.warmup, dev),
    }
    text = json.dumps(out, indent=1)
    print(text)
    if a.json_out:
        with open(a.json_out, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
