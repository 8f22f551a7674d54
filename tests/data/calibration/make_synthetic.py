#!/usr/bin/env python3
"""Writes synthetic-gpu.json: measurements generated from Herd's cost model with known parameters
(listed under device.truth) plus a deterministic +-1% multiplicative noise, so the fit's recovery of
those parameters can be tested (tests/calibrate/fit_test.cpp). Standard library only; rerun with
`python3 make_synthetic.py` from this folder to regenerate byte for byte."""
import json
import math

TRUTH = {
    "peak_flops": 1.0e15, "memory_bandwidth": 3.0e12, "parallel_units": 132,
    "gemm_e_inf": 0.9, "gemm_tile_m": 128, "gemm_tile_n": 128, "gemm_k_half": 200,
    "attention_fwd_inf": 0.7, "attention_bwd_inf": 0.55, "attention_seq_half": 512,
    "overhead_s": 5e-6,
    "elementwise": {"rmsnorm": 0.7, "rope": 0.5, "swiglu": 0.8, "residual_add": 0.85, "copy": 0.9},
    "all_reduce_alpha_s": 20e-6, "all_reduce_bandwidth": 300e9, "noise": 0.01,
}


class Noise:
    """Linear congruential generator (Knuth's MMIX constants): reproducible without numpy."""
    def __init__(self, seed):
        self.state = seed

    def factor(self):
        self.state = (6364136223846793005 * self.state + 1442695040888963407) % (1 << 64)
        return 1 + TRUTH["noise"] * (2 * (self.state >> 11) / float(1 << 53) - 1)


def gemm_efficiency(m, n, k):
    """model::gemm_shape_efficiency: the best of data-parallel waves, split-K when the tiles do not
    fill the units, and the stream-K hybrid (partial FP32 tiles written and read back at the copy
    bandwidth)."""
    tiles = math.ceil(m / TRUTH["gemm_tile_m"]) * math.ceil(n / TRUTH["gemm_tile_n"])
    units = TRUTH["parallel_units"]
    flops_per_byte = TRUTH["peak_flops"] / (TRUTH["memory_bandwidth"] * TRUTH["elementwise"]["copy"])
    best = 0.0
    for split in range(1, (math.ceil(units / tiles) if tiles < units else 1) + 1):
        work = tiles * split
        wave = work / (math.ceil(work / units) * units)
        k_slice = math.ceil(k / split)
        main_loop = TRUTH["gemm_e_inf"] * wave * k_slice / (k_slice + TRUTH["gemm_k_half"])
        best = max(best, 1.0 / (1.0 / main_loop + 4.0 * (split - 1) * flops_per_byte / k))
    # Stream-K hybrid: full waves data-parallel, the rest spread over every unit.
    full_waves = tiles // units
    rest = tiles - full_waves * units
    if rest > 0:
        k_half = TRUTH["gemm_k_half"]
        per_unit = full_waves * (k + k_half) + rest * k / units + k_half
        main_loop = TRUTH["gemm_e_inf"] * (tiles * k / units) / per_unit
        fixup = units * TRUTH["gemm_tile_m"] * TRUTH["gemm_tile_n"] * 8.0 * flops_per_byte / (2.0 * m * n * k)
        best = max(best, 1.0 / (1.0 / main_loop + fixup))
    return best


def main():
    noise = Noise(2024)
    peak, bw, o = TRUTH["peak_flops"], TRUTH["memory_bandwidth"], TRUTH["overhead_s"]
    records = []
    shapes = [(m, n, k) for m in (512, 1024, 2048, 4096, 8192)
              for n, k in ((2304, 16384), (16384, 2048), (13312, 16384), (16384, 6656), (1024, 4096), (4096, 512),
                           (6656, 128))]
    # Shapes whose tile counts tell 64-, 128- and 256-wide tiles apart.
    shapes += [(m, n, k) for m in (320, 704, 1472) for n, k in ((640, 4096), (1152, 8192), (2688, 2048))]
    for m, n, k in shapes:
        eff = gemm_efficiency(m, n, k)
        flops = 2.0 * m * n * k
        bytes_ = 2.0 * (m * k + k * n + m * n)
        # The roofline: memory-bound shapes take bytes / (bandwidth x copy efficiency).
        compute = max(flops / (peak * eff), bytes_ / (bw * TRUTH["elementwise"]["copy"]))
        t = (compute + o) * noise.factor()
        records.append({"kind": "gemm", "op": "synthetic", "pass": "forward", "dtype": "bf16",
                        "shape": {"m": m, "n": n, "k": k}, "flops": flops,
                        "bytes": bytes_, "median_s": t, "times_s": [t]})
    for s in (512, 1024, 2048, 4096, 8192, 16384):
        pairs = s * (s + 1) / 2.0
        fwd = 4.0 * 128 * pairs * 16
        for backward in (False, True):
            inf = TRUTH["attention_bwd_inf" if backward else "attention_fwd_inf"]
            eff = inf * s / (s + TRUTH["attention_seq_half"])
            flops = 2.5 * fwd if backward else fwd
            t = (flops / (peak * eff) + o) * noise.factor()
            records.append({"kind": "attention", "op": "attention", "pass": "backward" if backward else "forward",
                            "dtype": "bf16", "impl": "synthetic",
                            "shape": {"batch": 1, "heads_q": 16, "heads_kv": 1, "seq_q": s, "seq_kv": s,
                                      "head_dim": 128, "pairs": pairs},
                            "flops": flops, "median_s": t, "times_s": [t]})
    for cls, eff in TRUTH["elementwise"].items():
        for b in (1e5, 1e6, 1e7, 1e8, 1e9):
            t = (o + b / (bw * eff)) * noise.factor()
            records.append({"kind": "elementwise", "op": cls, "pass": "forward", "dtype": "bf16",
                            "shape": {"rows": 1, "cols": int(b / 4)}, "bytes": b, "median_s": t, "times_s": [t]})
    size = 8
    while size <= 8 << 30:
        t = (TRUTH["all_reduce_alpha_s"] + size / TRUTH["all_reduce_bandwidth"]) * noise.factor()
        records.append({"kind": "collective", "op": "all_reduce",
                        "shape": {"bytes": size, "ranks": 8, "nodes": 1, "in_place": False}, "median_s": t})
        size *= 4
    doc = {"format": "herd-measurements", "version": 1,
           "device": {"backend": "synthetic", "name": "Synthetic GPU", "peak_flops": peak,
                      "peak_source": "generator", "memory_bandwidth": bw, "bandwidth_source": "generator",
                      "parallel_units": TRUTH["parallel_units"], "devices": 8, "truth": TRUTH},
           "notes": ["generated by make_synthetic.py from the parameters in device.truth"],
           "records": records}
    with open("synthetic-gpu.json", "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
