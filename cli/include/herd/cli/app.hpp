#pragma once
// The `herd` command line. Every command lives in this library so tests can run it in-process.
#include <iosfwd>
#include <string>
#include <vector>

namespace herd::cli {

/// Exit codes: 0 success, 1 a failure while running, 2 bad input (nothing written).
inline constexpr int kExitOk = 0, kExitFailure = 1, kExitBadInput = 2;
/// No valid answer, though the input was good and the command ran: `herd plan` found no layout
/// that fits in memory (the closest ones are reported); `herd simulate`'s or `herd train`'s plan
/// does not fit (the figures assume it did); no trial of `herd train` finished.
inline constexpr int kExitNoLayout = 3;

/// Runs `herd` with `args` (without the program name); output to `out`, errors to `err`.
int run(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace herd::cli
