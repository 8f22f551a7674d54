#pragma once
// The `herd-calibrate` command line, as a library so tests can run it in-process:
//   measure --backend cpu|cuda [--model NAME[:TP,...]]... [--seq N] ... -o raw.json
//   import-nccl-tests FILE... [--collective NAME] -o raw.json
//   import-kineto TRACE -o raw.json
//   fit RAW... -o profile.json [--gpu-preset NAME] [--json]
//   self-test [--backend cpu|cuda]
// (docs/calibration.md). Exit codes: 0 success, 1 a failure while running (a device error, a
// failed self-test), 2 bad input (a one-line error naming the file and JSON pointer; nothing written).
#include <iosfwd>
#include <string>
#include <vector>

namespace herd::calibrate {

inline constexpr int kExitOk = 0, kExitFailure = 1, kExitBadInput = 2;

/// Runs herd-calibrate with `args` (without the program name); progress goes to `err`.
int run_calibrate(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

/// True when this build has the CUDA backend.
bool built_with_cuda();

}  // namespace herd::calibrate
