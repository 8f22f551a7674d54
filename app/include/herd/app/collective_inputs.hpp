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

/// A size such as "1GiB", "8B", "256MB" or a plain number of bytes. Throws model::InputError
/// naming `option` when `text` is not a size or is negative.
double parse_size(const std::string& option, const std::string& text);

/// The sizes of a sweep "MIN:MAX": MIN, 2 MIN, 4 MIN, ... up to MAX (nccl-tests -b MIN -e MAX -f 2).
/// Throws model::InputError("--sweep") without a colon, for a bad size, or unless 0 < MIN <= MAX.
std::vector<double> parse_sweep(const std::string& text);

/// The ranks of a list such as "0-7", "0,8,16" or "0-127,256", in the order written, among
/// `ranks` ranks. Throws model::InputError(`option`) for an item that is not a rank or a range
/// a-b, a rank outside [0, ranks), a rank named twice, or a list that names no rank.
std::vector<int> parse_ranks(const std::string& text, int ranks, const std::string& option = "--group");

}  // namespace herd::app
