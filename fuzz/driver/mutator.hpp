#pragma once
// Deterministic mutations of fuzz inputs: the same seed gives the same sequence of inputs on every
// machine (the generator is SplitMix64, not a standard distribution). JSON inputs are mutated as
// documents most of the time (a value replaced by a hostile one, a declared key set, a node deleted,
// copied or nested), so most mutants reach the checks behind the parser; the rest are text
// mutations (bytes, lines, numbers, dictionary words) that probe the parser itself.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_target.hpp"

namespace herd::fuzz {

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next();
  /// Uniform in [0, n); n > 0.
  std::size_t below(std::size_t n) { return static_cast<std::size_t>(next() % n); }
  bool chance(int percent) { return below(100) < static_cast<std::size_t>(percent); }

 private:
  std::uint64_t state_;
};

/// Numbers that break arithmetic: zero, signs, powers of two at type limits, the double range's
/// ends, and numbers no double holds ("1e400"), written as JSON text.
const std::vector<std::string>& hostile_numbers();
/// Strings that break unit and name parsing: empty, unit-only, non-finite, huge with a unit.
const std::vector<std::string>& hostile_strings();

struct MutatorLimits {
  std::size_t max_len = 1 << 20;  ///< mutants longer than this are cut back
};

class Mutator {
 public:
  Mutator(const Target& target, std::uint64_t seed, MutatorLimits limits = {});
  /// A mutant of `input`; `corpus` supplies material to splice in.
  std::string mutate(const std::string& input, const std::vector<std::string>& corpus);

 private:
  std::string mutate_json(const std::string& input, const std::vector<std::string>& corpus);
  std::string mutate_text(const std::string& input, const std::vector<std::string>& corpus);
  std::string mutate_set_lines(const std::string& input);
  std::string hostile_value_text();
  std::string word();

  const Target& target_;
  Rng rng_;
  MutatorLimits limits_;
};

}  // namespace herd::fuzz
