#include <fstream>
#include <stdexcept>

#include "fuzz_target.hpp"

namespace herd::fuzz {

std::string judge(const Outcome& outcome, const std::vector<std::string>& sources) {
  const int code = outcome.exit_code;
  if (code == 1) return "exit 1 (an internal failure) on input that is valid or bad: " + outcome.err.substr(0, 400);
  if (code != 0 && code != 2 && code != 3) return "exit " + std::to_string(code) + ", not one docs/cli.md defines";
  if (code != 2) return "";
  const std::string& err = outcome.err;
  if (err.empty() || err.back() != '\n' || err.find('\n') != err.size() - 1)
    return "a bad-input message that is not exactly one line: " + err.substr(0, 400);
  if (err.size() - 1 > kMaxMessage)
    return "a bad-input message of " + std::to_string(err.size() - 1) + " characters (at most " +
           std::to_string(kMaxMessage) + "): " + err.substr(0, 400);
  for (const auto& source : sources)
    if (err.find(source) != std::string::npos) return "";
  return "a bad-input message that names none of its sources: " + err;
}

void write_input(const std::string& path, std::string_view content) {
  std::ofstream file(path, std::ios::binary | std::ios::trunc);
  file.write(content.data(), static_cast<std::streamsize>(content.size()));
  if (!file) throw std::runtime_error("cannot write " + path);
}

}  // namespace herd::fuzz
