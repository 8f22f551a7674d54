#pragma once
// Errors that reach the user. Bad input is a typed exception naming where it came from and the
// JSON pointer of the offending value; the CLI prints what() and exits with code 2.
#include <cstddef>
#include <stdexcept>
#include <string>

namespace herd::model {

/// The longest message an InputError gives (what()): one line, the source, the pointer and the
/// message each cut in the middle ("...") where they would make it longer.
inline constexpr std::size_t kMaxErrorMessage = 280;

/// Bad input: malformed JSON, unknown key, wrong type or unit, impossible plan.
/// `source` is a file name, "preset <name>" or "--set <path>=<value>"; `pointer` is an RFC 6901
/// JSON pointer ("/plan/tp") or empty when the whole document is at fault.
class InputError : public std::runtime_error {
 public:
  InputError(std::string source, std::string pointer, std::string message);
  const std::string& source() const noexcept { return source_; }
  const std::string& pointer() const noexcept { return pointer_; }
  const std::string& message() const noexcept { return message_; }

 private:
  std::string source_, pointer_, message_;
};

/// Bad input whose source is not yet known (thrown deep inside parsing); the scenario loader
/// catches it and rethrows an InputError with the source of the pointer.
class ValueError : public std::runtime_error {
 public:
  ValueError(std::string pointer, std::string message);
  const std::string& pointer() const noexcept { return pointer_; }
  const std::string& message() const noexcept { return message_; }

 private:
  std::string pointer_, message_;
};

}  // namespace herd::model
