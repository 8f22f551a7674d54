#pragma once
// The text inputs of `herd collective` (flags, or a GUI's text fields), parsed and checked in one
// place. Each throws model::InputError whose source is the option it checks ("--group: rank 99999
// is not among the plan's 16384"), with an empty pointer.
#include <string>
#include <vector>

namespace herd::app {

/// Bytes of one element of `dtype`: float/int32 4, half/bfloat16/bf16 2, double/int64 8,
/// int8/uint8/fp8 1. Throws model::InputError("--dtype") for another type.
int dtype_bytes(const std::string& dtype);

/// A size such as "1GiB", "8B", "256MB", a plain number of bytes, or nccl-tests' bare suffixes
/// "8K", "128M", "1G", "2T" (powers of 1024, either case). Throws model::InputError naming
/// `option` when `text` is not a size or is negative.
double parse_size(const std::string& option, const std::string& text);

/// The sizes of a sweep "MIN:MAX": MIN, 2 MIN, 4 MIN, ... up to MAX (nccl-tests -b MIN -e MAX -f 2).
/// Throws model::InputError("--sweep") without a colon, for a bad size, or unless 0 < MIN <= MAX.
std::vector<double> parse_sweep(const std::string& text);

/// nccl-tests' own flags for the sizes, as text; empty: not given.
struct SizeFlags {
  std::string min_bytes;    ///< -b/--minbytes; without it, --maxbytes (one size)
  std::string max_bytes;    ///< -e/--maxbytes; without it, --minbytes
  std::string step_factor;  ///< -f/--stepfactor: each size this many times the last (> 1; default 2)
  std::string step_bytes;   ///< -i/--stepbytes: each size this many bytes more than the last (> 0)
  bool given() const { return !min_bytes.empty() || !max_bytes.empty() || !step_factor.empty() || !step_bytes.empty(); }
};

/// At most this many sizes in one sweep.
inline constexpr std::size_t kMaxSweepSizes = 10'000;

/// The sizes nccl-tests' flags give: MIN, then times the step factor (2 unless given) or plus the
/// step bytes, while at most MAX; whole bytes. Throws model::InputError naming the flag for a bad
/// size or step, -f with -i, -f or -i without -b or -e, MIN above MAX, a size of 0, or more than
/// kMaxSweepSizes sizes.
std::vector<double> parse_size_flags(const SizeFlags& flags);

/// The ranks of a list such as "0-7", "0,8,16" or "0-127,256", in the order written, among
/// `ranks` ranks. Throws model::InputError(`option`) for an item that is not a rank or a range
/// a-b, a rank outside [0, ranks), a rank named twice, or a list that names no rank.
std::vector<int> parse_ranks(const std::string& text, int ranks, const std::string& option = "--group");

}  // namespace herd::app
