"""Training speed of the assignments' networks, against the machine's GEMM and PyTorch.

    python -m dd2424.bench          (or: make bench)

Prints, for the Assignment 1, 2 and 3 networks at batch 100 on one thread:
samples/s of a single model and of a stack of M models (summed over the
stack), the useful GFLOP/s of those steps (the products a step cannot avoid:
forward, weight gradients, and input gradients of every layer but the
first) as a share of a plain float32 numpy GEMM measured in the same run,
and PyTorch's samples/s for the same single model where torch is installed.
The figures are those of ``trainer.train`` itself (updates only), on random
data held in memory.  With ``--options``: the samples/s of Assignment 3's
network under each run-spec option that changes a training step (loss,
optimizer, batch-norm placement, noise, augmentation) against the plain
step, and the seconds ``precise_bn`` adds after training.

Then (alone with ``--conv``) the ConvNets of the 2025 Assignment 3: the four
architectures of its Exercise 3, (f, n_f) = (2, 3), (4, 10), (8, 40), (16,
160) with n_h = 50, and Exercise 4's architecture 5 (f 4, n_f 40, n_h 300),
one model at batch 100 in float32: our samples/s through ``trainer.train``
beside the same network in PyTorch (``torch.nn.functional.conv2d`` with
stride f, linear layers, autograd and an SGD step, one thread), their
ratio, and our useful GFLOP/s against the GEMM.  Each network is measured
``--repeats`` times, ours and PyTorch's in turn, and the best of each kept,
so that a change of the machine's load falls on both alike.  Without torch
the table says so in its PyTorch column.
"""

import os

from dd2424.util.blas import use_threads

use_threads(1, override=False)

import argparse  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from dd2424.data.cifar import N_CLASSES, D  # noqa: E402
from dd2424.nn.arithmetic import GEMM_N, gemm_gflops, network_flop_per_sample, useful_flop_per_sample  # noqa: E402
from dd2424.nn.spec import defaults  # noqa: E402
from dd2424.nn.trainer import train  # noqa: E402
from dd2424.pipeline.training import build_network, keep_freed_memory  # noqa: E402

NETWORKS = {
    "a1 linear": {"hidden": [], "batch_norm": False, "init": "normal", "bias_init": "normal"},
    "a2 2-layer": {"hidden": [50], "batch_norm": False, "init": "xavier", "bias_init": "zero"},
    "a3 3-layer BN": {"hidden": [50, 50], "batch_norm": True, "init": "he", "bias_init": "zero"},
}
# The declared defaults, one epoch at a constant eta, lambda 0.01.
SPEC = {**defaults(), "epochs": 1, "evals_per_cycle": 1, "run": "bench", "lambda": 0.01}


def numpy_samples_per_s(shape, n_models, data, epochs):
    train_set, val_set = data
    spec = {**SPEC, **shape, "epochs": epochs}
    specs = [{**spec, "eta": spec["eta"] * (1 + m / 10), "run": f"p{m}"} for m in range(n_models)]
    rng = np.random.default_rng(0)
    net = build_network(specs, D, rng)
    _, infos = train(net, train_set, val_set, specs, rng, curves=False)
    return infos[0]["samples_per_s"]


def load_torch():
    """torch with one thread, or None where it is not installed (it is not a dependency)."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)
    return torch


def torch_samples_per_s(shape, data, epochs):
    torch = load_torch()
    if torch is None:
        return None
    layers, fan_in = [], D
    for width in shape["hidden"]:
        layers.append(torch.nn.Linear(fan_in, width, bias=not shape["batch_norm"]))
        if shape["batch_norm"]:
            layers.append(torch.nn.BatchNorm1d(width))
        layers.append(torch.nn.ReLU())
        fan_in = width
    layers.append(torch.nn.Linear(fan_in, N_CLASSES))
    net = torch.nn.Sequential(*layers)
    opt = torch.optim.SGD(net.parameters(), lr=0.001, weight_decay=2 * 0.01)
    X, y = torch.from_numpy(np.ascontiguousarray(data[0][0])), torch.from_numpy(data[0][1])
    n, batch, samples = X.shape[0], SPEC["n_batch"], 0
    gen = torch.Generator().manual_seed(0)
    start = time.perf_counter()
    for _ in range(epochs):
        order = torch.randperm(n, generator=gen)
        for first in range(0, n, batch):
            idx = order[first : first + batch].sort().values
            opt.zero_grad(set_to_none=True)
            loss = torch.nn.functional.cross_entropy(net(X[idx]), y[idx])
            loss.backward()
            opt.step()
            samples += len(idx)
    return samples / (time.perf_counter() - start)


# The settings of the run spec that change a training step, each against the plain step of Assignment 3's
# network (--options): what each costs per step, not what it gains.
OPTIONS = {
    "plain (SGD, softmax)": {},
    "loss: svm": {"loss": "svm"},
    "optimizer: adam": {"optimizer": "adam"},
    "momentum: 0.9": {"momentum": 0.9},
    "bn_position: after_relu": {"bn_position": "after_relu"},
    "noise_std: 0.1": {"noise_std": 0.1},
    "salt_pepper: 0.05": {"salt_pepper": 0.05},
    "flip + translate: 2": {"flip": True, "translate": 2},
    "dropout: 0.3": {"dropout": 0.3},
}


def option_costs(data, repeats=3, epochs=2):
    """{option: best samples/s of ``repeats``}, the options measured in turn, round after round, so that a
    change of the machine's load falls on all of them alike."""
    shape = NETWORKS["a3 3-layer BN"]
    best = dict.fromkeys(OPTIONS, 0.0)
    for _ in range(repeats):
        for label, overrides in OPTIONS.items():
            best[label] = max(best[label], numpy_samples_per_s({**shape, **overrides}, 1, data, epochs))
    return best


def precise_bn_seconds(data, n_models=1):
    """Seconds that recomputing the batch-norm statistics over the training set adds to a job (``precise_bn``)."""
    from dd2424.nn.trainer import precise_statistics

    spec = {**SPEC, **NETWORKS["a3 3-layer BN"], "run": "bench"}
    net = build_network([spec] * n_models, D, np.random.default_rng(0))
    net.forward(data[0][0][:100], train=True)  # running averages to replace
    return precise_statistics(net, data[0][0], lambda line: None)


# The 2025 Assignment 3's ConvNets: (f, n_f, n_h) of its Exercise 3 architectures 1-4 and Exercise 4's architecture 5.
CONV_NETWORKS = {
    "arch 1 (2, 3)": (2, 3, 50),
    "arch 2 (4, 10)": (4, 10, 50),
    "arch 3 (8, 40)": (8, 40, 50),
    "arch 4 (16, 160)": (16, 160, 50),
    "arch 5 (4, 40, 300)": (4, 40, 300),
}


def conv_shape(f, n_f, n_h):
    """The run-spec keys of a ConvNet: a patchify layer, one hidden layer, He initialisation."""
    return {
        "hidden": [n_h],
        "batch_norm": False,
        "init": "he",
        "bias_init": "zero",
        "patch_size": f,
        "patch_filters": n_f,
    }


def torch_conv_samples_per_s(f, n_f, n_h, data, epochs):
    """PyTorch's training samples/s of the same ConvNet on the same data, or None without torch.

    conv2d with stride f (no padding: the rows and columns past the last whole patch dropped, as ours),
    ReLU, two linear layers, cross-entropy, autograd, and SGD with the L2 term on the filters and weights.
    """
    torch = load_torch()
    if torch is None:
        return None
    gen = torch.Generator().manual_seed(0)
    d0 = n_f * (32 // f) ** 2
    F = (torch.randn(n_f, 3, f, f, generator=gen) * (2 / (3 * f * f)) ** 0.5).requires_grad_()
    W1 = (torch.randn(n_h, d0, generator=gen) * (2 / d0) ** 0.5).requires_grad_()
    W2 = (torch.randn(N_CLASSES, n_h, generator=gen) * (2 / n_h) ** 0.5).requires_grad_()
    c, b1, b2 = (torch.zeros(k, requires_grad=True) for k in (n_f, n_h, N_CLASSES))
    opt = torch.optim.SGD(
        [{"params": [F, W1, W2], "weight_decay": 2 * SPEC["lambda"]}, {"params": [c, b1, b2]}], lr=SPEC["eta"]
    )
    # Our rows are channel-major images: NCHW as they are.
    X, y = torch.from_numpy(np.ascontiguousarray(data[0][0])).reshape(-1, 3, 32, 32), torch.from_numpy(data[0][1])
    n, batch, samples = X.shape[0], SPEC["n_batch"], 0
    start = time.perf_counter()
    for _ in range(epochs):
        order = torch.randperm(n, generator=gen)
        for first in range(0, n, batch):
            idx = order[first : first + batch].sort().values
            opt.zero_grad(set_to_none=True)
            h = torch.relu(torch.nn.functional.conv2d(X[idx], F, c, stride=f)).flatten(1)
            scores = torch.nn.functional.linear(torch.relu(torch.nn.functional.linear(h, W1, b1)), W2, b2)
            torch.nn.functional.cross_entropy(scores, y[idx]).backward()
            opt.step()
            samples += len(idx)
    return samples / (time.perf_counter() - start)


def conv_table(data, gemm, repeats=3, epochs=1):
    """Print ours against PyTorch for ``CONV_NETWORKS``; return {name: (ours, torch or None)} samples/s."""
    best = {name: [0.0, None] for name in CONV_NETWORKS}
    for _ in range(repeats):
        for name, (f, n_f, n_h) in CONV_NETWORKS.items():
            best[name][0] = max(best[name][0], numpy_samples_per_s(conv_shape(f, n_f, n_h), 1, data, epochs))
            reference = torch_conv_samples_per_s(f, n_f, n_h, data, epochs)
            if reference is not None:
                best[name][1] = max(best[name][1] or 0.0, reference)
    header = (
        f"{'ConvNet (f, n_f, n_h)':<21} {'samples/s':>10} {'GFLOP/s':>8} {'of GEMM':>8} "
        f"{'torch samples/s':>16} {'ours/torch':>10}"
    )
    print(f"2025 Assignment 3 ConvNets, one model, batch 100, float32, best of {repeats}")
    print(header)
    print("-" * len(header))
    for name, (f, n_f, n_h) in CONV_NETWORKS.items():
        ours, reference = best[name]
        gflops = ours * network_flop_per_sample([n_h], f, n_f) / 1e9
        torch_cols = (
            f"{reference:>16,.0f} {ours / reference:>9.2f}x" if reference else f"{'not installed':>16} {'':>10}"
        )
        print(f"{name:<21} {ours:>10,.0f} {gflops:>8.1f} {gflops / gemm:>8.0%} {torch_cols}")
    if all(reference is None for _, reference in best.values()):
        print("PyTorch is not installed: pip install torch to compare (it is not a dependency)")
    return {name: tuple(v) for name, v in best.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", type=int, default=20, help="models in the stacked measurement (default 20)")
    parser.add_argument("--images", type=int, default=10000, help="training images (default 10,000)")
    parser.add_argument(
        "--options", action="store_true", help="the cost per step of each run-spec option on the a3 network instead"
    )
    parser.add_argument("--conv", action="store_true", help="the 2025 Assignment 3 ConvNets against PyTorch only")
    parser.add_argument("--repeats", type=int, default=3, help="measurements of each ConvNet, the best kept")
    args = parser.parse_args(argv)
    keep_freed_memory()  # as a training job does
    rng = np.random.default_rng(0)
    data = (
        (rng.standard_normal((args.images, D), dtype=np.float32), rng.integers(0, N_CLASSES, args.images)),
        (rng.standard_normal((100, D), dtype=np.float32), rng.integers(0, N_CLASSES, 100)),
    )
    gemm = gemm_gflops()
    print(f"float32 GEMM ({GEMM_N}^2, numpy, {os.environ['OPENBLAS_NUM_THREADS']} thread): {gemm:.1f} GFLOP/s")
    if args.options:
        costs = option_costs(data)
        plain = costs["plain (SGD, softmax)"]
        flop = useful_flop_per_sample([D, *NETWORKS["a3 3-layer BN"]["hidden"], N_CLASSES])
        print("a3 3-layer BN (50-50), one model, batch 100, best of 3: samples/s, share of GEMM, against plain")
        for label, rate in costs.items():
            print(f"{label:<26} {rate:>9,.0f} {rate * flop / 1e9 / gemm:>6.0%} {rate / plain:>7.2f}x")
        print(f"precise_bn: {precise_bn_seconds(data):.2f} s over {args.images:,} images after training (one model)")
        return
    if args.conv:
        conv_table(data, gemm, args.repeats)
        return
    header = (
        f"{'network':<14} {'models':>6} {'samples/s':>11} {'GFLOP/s':>8} {'of GEMM':>8} "
        f"{'torch samples/s':>16} {'numpy/torch':>11}"
    )
    print(header)
    print("-" * len(header))
    for name, shape in NETWORKS.items():
        flop = useful_flop_per_sample([D, *shape["hidden"], N_CLASSES])
        reference = torch_samples_per_s(shape, data, epochs=3)
        for n_models in (1, args.stack):
            rate = numpy_samples_per_s(shape, n_models, data, epochs=3 if n_models == 1 else 1)
            gflops = rate * flop / 1e9
            torch_cols = (
                f"{reference:>16,.0f} {rate / reference:>10.2f}x"
                if reference and n_models == 1
                else f"{'-' if n_models > 1 else 'not installed':>16} {'':>11}"
            )
            print(f"{name:<14} {n_models:>6} {rate:>11,.0f} {gflops:>8.1f} {gflops / gemm:>8.0%} {torch_cols}")
    print()
    conv_table(data, gemm, args.repeats)


if __name__ == "__main__":
    main()
