#pragma once
// A fuzz target: one input parser of Herd driven end to end through the command that reads it, with
// the oracle every bad input must pass (docs/fuzzing.md). The same target runs under Herd's own
// mutation driver (driver_main.cpp, built with any compiler, run by CTest) and, with Clang, under
// libFuzzer (libfuzzer_entry.cpp).
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace herd::fuzz {

/// How inputs of a target are shaped, which picks the mutations that suit them.
enum class InputKind {
  json,       ///< a JSON document (scenario, HF config, profile, measurements, runs file, Kineto trace)
  text,       ///< a text log (nccl-tests)
  set_lines,  ///< one `--set path=value` per line
};

/// What one execution ended with.
struct Outcome {
  int exit_code = 0;
  std::string err;  ///< everything the command wrote to stderr
};

struct Target {
  std::string name;
  InputKind kind = InputKind::json;
  /// Words the mutator inserts: keys, choices, values with units.
  std::vector<std::string> dictionary;
  /// For json targets: dotted scenario-style paths ("plan.tp") the mutator may set in a document,
  /// with "[]" for an array element and "*" for a map key, as model::scenario_params() spells them.
  std::vector<std::string> paths;
  /// Runs the input through the command that reads it. `work_dir` is an empty directory of this
  /// process for the input file and any output.
  std::function<Outcome(std::string_view input, const std::string& work_dir)> run;
  /// Texts a bad-input message may name as its source (the input file, "--set"); one must appear.
  std::function<std::vector<std::string>(const std::string& work_dir)> sources;
};

/// The target this program fuzzes (each fuzz/targets/<name>.cpp defines it).
Target make_target();

/// Why `outcome` breaks the promise for bad input, or "" when it keeps it: the exit code is 0, 2 or
/// 3 (never 1, an internal failure, nor anything else), and a bad-input answer (2) is one line of at
/// most kMaxMessage characters naming one of `sources`.
std::string judge(const Outcome& outcome, const std::vector<std::string>& sources);
inline constexpr std::size_t kMaxMessage = 320;

/// Writes `content` to `path` (plain, not atomic: the work directory is private).
void write_input(const std::string& path, std::string_view content);

}  // namespace herd::fuzz
