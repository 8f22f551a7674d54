#pragma once
// Checks of the reference math that herd-calibrate runs as `self-test` (and the tests run in CI).
#include <cstdint>
#include <string>
#include <vector>

#include "herd/calibrate/layer_dims.hpp"

namespace herd::calibrate {

struct Check {
  std::string what;        ///< "dx", "dW fc1", "y (GPU vs CPU)", ...
  double error = 0;        ///< the largest error found (its definition is the check's)
  double tolerance = 0;
  bool passed() const { return error <= tolerance; }
};

/// The CPU layer's backward against central differences of its forward, in double precision:
/// with L = sum(y * R) for a fixed random R, every input element and every `stride`-th element of
/// each parameter, error = |analytic - (L(p + e) - L(p - e)) / 2e| / max(1, |numeric|), e = 1e-6,
/// tolerance 1e-6.
std::vector<Check> cpu_gradient_check(const LayerDims& d, std::uint64_t seed, std::size_t stride = 7);

/// A small layer for checks: 2 sequences of 5 tokens, h 12, 4 query and 2 K/V heads of 4, ffn 10.
LayerDims small_check_layer();

}  // namespace herd::calibrate
