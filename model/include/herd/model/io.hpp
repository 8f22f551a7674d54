#pragma once
// Output files are written atomically: to a temporary file beside the target, then renamed, so a
// reader never sees half a file and a failed run leaves nothing behind.
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "herd/model/error.hpp"

namespace herd::model {

/// The file name that stands for standard input wherever a scenario or an input file is read.
inline constexpr std::string_view kStdinFile = "-";

/// How messages name `file`: "<stdin>" for kStdinFile, else the path.
std::string source_name(const std::filesystem::path& file);
/// How messages name an output `file`: "<stdout>" for "-" (where a command writes to standard
/// output instead), else the path.
std::string output_name(const std::filesystem::path& file);

/// The whole text of a file, or of standard input for kStdinFile ("-"). Throws InputError naming
/// the file ("cannot read the <what>").
std::string read_text_file(const std::filesystem::path& file, std::string_view what);

/// Arrays and objects nested deeper than this are refused before parsing.
inline constexpr int kMaxJsonDepth = 256;

/// Parses JSON text; malformed JSON, or nesting deeper than kMaxJsonDepth, is an InputError naming
/// `source` with line and column.
nlohmann::json parse_json(const std::string& text, const std::string& source);

/// Where `text` first nests arrays and objects deeper than kMaxJsonDepth: a message naming the line
/// and column, or empty when it does not.
std::string nesting_error(std::string_view text);

/// Where `text` first breaks UTF-8 ("invalid UTF-8 at byte 12"), or empty when it is valid UTF-8.
/// Text read outside the JSON parser (logs, --set values) is checked, since JSON output cannot carry
/// it.
std::string utf8_error(std::string_view text);

/// A JSON value as a message echoes it: compact, at most `limit` characters with "…" where cut.
/// Walks only as much of the value as it prints, so a huge or deeply nested value costs little.
std::string show_value(const nlohmann::json& value, std::size_t limit = 80);

/// Reads and parses a JSON file ("-": standard input, named "<stdin>"), then runs `parse` on it; a
/// ValueError (or a JSON type error) from `parse` becomes an InputError naming the file and the
/// JSON pointer.
template <typename Parse>
auto parse_json_file(const std::filesystem::path& file, std::string_view what, Parse parse) {
  const std::string source = source_name(file);
  const nlohmann::json doc = parse_json(read_text_file(file, what), source);
  try {
    return parse(doc);
  } catch (const ValueError& e) {
    throw InputError(source, e.pointer(), e.message());
  } catch (const nlohmann::json::exception& e) {
    throw InputError(source, "", "invalid " + std::string(what) + ": " + e.what());
  }
}

/// Writes `content` to `path` atomically. Throws std::runtime_error naming the path on failure.
/// A path that exists and is not a regular file (/dev/stdout, a pipe) is written in place.
void write_file_atomically(const std::filesystem::path& path, std::string_view content);

/// A file written atomically piece by piece, for output too large to hold in memory: write() goes,
/// buffered, to a temporary file beside the target; commit() renames it over the target. Without
/// commit() (an exception, a cancelled run) the temporary file is removed and the target left as
/// it was. A path that exists and is not a regular file (/dev/stdout, a pipe) is written in place.
/// Write errors throw std::runtime_error naming the path, at the latest from commit().
class AtomicFile {
 public:
  explicit AtomicFile(const std::filesystem::path& path);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(std::string_view text);
  /// Bytes written so far.
  std::uint64_t size() const { return size_; }
  /// Flushes and renames the temporary file over the target.
  void commit();

 private:
  std::filesystem::path path_, tmp_;  ///< tmp_ empty: written in place
  std::ofstream out_;
  std::unique_ptr<char[]> buffer_;
  std::uint64_t size_ = 0;
  bool done_ = false;
};

/// From now on SIGINT, SIGTERM and SIGHUP first remove the temporary files of the AtomicFiles
/// being written, then end the process as the signal would have (Ctrl-C during a long trace leaves
/// neither the target nor a FILE.tmp.PID behind). For the programs' main(); idempotent.
void remove_temporary_files_on_signal();

/// Checks, before a run, that `path` can be written: not empty, not a directory, in a directory that
/// exists and is writable. Throws InputError naming `option` and the path.
void check_output_path(const std::filesystem::path& path, const std::string& option);

}  // namespace herd::model
