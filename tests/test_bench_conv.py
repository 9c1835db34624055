"""The ConvNet benchmark: its arithmetic by hand, and a table that names a missing PyTorch instead of failing."""

import numpy as np

from dd2424 import bench


def test_the_convnets_useful_arithmetic_by_hand():
    # arch 2: 64 patches of 48 values, 10 filters: 2 * 64 * 48 * 10 flop forward and as many for the filters'
    # gradient; 640 -> 50 -> 10 linear layers, three products each
    assert bench.conv_flop_per_sample(4, 10, 50) == 2 * 2 * 64 * 48 * 10 + 3 * 2 * (640 * 50 + 50 * 10)
    # f 16: 4 patches of 768 values
    assert bench.conv_flop_per_sample(16, 160, 50) == 4 * 4 * 768 * 160 + 6 * (640 * 50 + 500)


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
