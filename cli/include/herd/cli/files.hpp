#pragma once
// The file habits `herd` and `herd-calibrate` share: "-" is standard output for a table written as
// CSV and standard input for a scenario or an input file; output paths are checked before the
// run and written atomically (model::check_output_path, model::write_file_atomically).
// Header-only: both link CLI11 privately.
#include <algorithm>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>

#include "herd/model/error.hpp"
#include "herd/model/io.hpp"

namespace herd::cli {

/// The file name that stands for standard output where a command writes a table (`--csv -`).
inline constexpr std::string_view kStdoutFile = "-";

/// model::check_output_path, letting "-" (standard output) pass.
inline void check_output(const std::string& path, const std::string& option) {
  if (path != kStdoutFile) model::check_output_path(path, option);
}

/// `content` to standard output (`out`) for "-", else to the file, atomically.
inline void write_output(const std::string& path, std::string_view content, std::ostream& out) {
  if (path == kStdoutFile) out << content;
  else model::write_file_atomically(path, content);
}

/// An input file that must exist, or "-" for standard input (model::read_text_file reads either).
inline CLI::Validator input_file() {
  return CLI::Validator(
      [](std::string& path) { return path == model::kStdinFile ? std::string() : CLI::ExistingFile(path); }, "");
}

/// Standard input ("-") for one of `inputs` at most: a second would read nothing. Throws
/// model::InputError naming `option`, before anything is read.
inline void check_stdin_once(const std::vector<std::string>& inputs, const std::string& option) {
  if (std::count(inputs.begin(), inputs.end(), model::kStdinFile) > 1)
    throw model::InputError(option, "", "standard input (-) can be read once: give it for one of the inputs only");
}

}  // namespace herd::cli
