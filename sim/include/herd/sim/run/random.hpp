#pragma once
// Random streams for Monte Carlo trials. Each stream is keyed by (seed, trial, stream id), so a
// trial's draws do not depend on which thread runs it or on the other trials, and one failure
// class's draws do not depend on the others'. The generator is SplitMix64 (Steele, Lea and Flood,
// OOPSLA 2014): the n-th output is a fixed mix of seed + n x gamma, a counter-based generator with
// a 2^64 period per stream. Sampling is written out here because std:: distributions may differ
// between standard libraries.
#include <cmath>
#include <cstdint>
#include <string_view>

namespace herd::sim::run {

/// SplitMix64's output function (a bijection on 64-bit integers).
constexpr std::uint64_t mix64(std::uint64_t z) noexcept {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

/// FNV-1a, to key a stream by a name ("faulty_gpu") rather than by a position in a list.
constexpr std::uint64_t stream_id(std::string_view name) noexcept {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (char c : name) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL;
  return h;
}

class RandomStream {
 public:
  static constexpr std::uint64_t kGamma = 0x9e3779b97f4a7c15ULL;

  RandomStream(std::uint64_t seed, std::uint64_t trial, std::uint64_t stream) noexcept
      : state_(mix64(seed + kGamma * mix64(trial + kGamma * mix64(stream)))) {}

  std::uint64_t next() noexcept {
    state_ += kGamma;
    return mix64(state_);
  }
  /// Uniform on (0, 1]: never 0, so log() is finite.
  double uniform_open0() noexcept { return double((next() >> 11) + 1) * 0x1.0p-53; }
  /// Exponential with the given mean (inversion).
  double exponential(double mean) noexcept { return -std::log(uniform_open0()) * mean; }
  /// Weibull with shape k and the given mean: scale = mean / Gamma(1 + 1/k) (inversion).
  double weibull(double shape, double mean) noexcept {
    const double scale = mean / std::tgamma(1.0 + 1.0 / shape);
    return scale * std::pow(-std::log(uniform_open0()), 1.0 / shape);
  }

 private:
  std::uint64_t state_;
};

}  // namespace herd::sim::run
