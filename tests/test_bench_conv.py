"""The ConvNet benchmark: its arithmetic by hand, and a table that names a missing PyTorch instead of failing."""

import numpy as np

from dd2424 import bench
from dd2424.nn.arithmetic import network_flop_per_sample, useful_flop_per_sample


def test_the_convnets_useful_arithmetic_by_hand():
    # arch 2: 64 patches of 48 values, 10 filters: 2 * 64 * 48 * 10 flop forward and as many for the filters'
    # gradient; 640 -> 50 -> 10 linear layers, three products each
    assert network_flop_per_sample([50], 4, 10) == 2 * 2 * 64 * 48 * 10 + 3 * 2 * (640 * 50 + 50 * 10)
    # f 16: 4 patches of 768 values
    assert network_flop_per_sample([50], 16, 160) == 4 * 4 * 768 * 160 + 6 * (640 * 50 + 500)
    # two banks, (4, 10) and (8, 5): their outputs side by side feed the first linear layer
    banks = 2 * 2 * 64 * 48 * 10 + 2 * 2 * 16 * 192 * 5
    assert network_flop_per_sample([50], [4, 8], [10, 5]) == banks + 6 * ((640 + 80) * 50 + 500)
    # no convolution: the dense network's, whose first layer needs no input gradient
    assert network_flop_per_sample([50]) == useful_flop_per_sample([3072, 50, 10]) == 4 * 3072 * 50 + 6 * 500


def test_the_table_says_when_torch_is_missing(monkeypatch, capsys):
    monkeypatch.setattr(bench, "load_torch", lambda: None)
    monkeypatch.setattr(bench, "CONV_NETWORKS", {"tiny (8, 2)": (8, 2, 5)})
    rng = np.random.default_rng(0)
    data = (
        (rng.standard_normal((200, 3072), dtype=np.float32), rng.integers(0, 10, 200)),
        (rng.standard_normal((50, 3072), dtype=np.float32), rng.integers(0, 10, 50)),
    )
    best = bench.conv_table(data, gemm=10.0, repeats=1)
    out = capsys.readouterr().out
    assert "not installed" in out and "PyTorch is not installed" in out
    ours, reference = best["tiny (8, 2)"]
    assert ours > 0 and reference is None
