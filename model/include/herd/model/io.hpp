#pragma once
// Output files are written atomically: to a temporary file beside the target, then renamed, so a
// reader never sees half a file and a failed run leaves nothing behind.
#include <filesystem>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "herd/model/error.hpp"

namespace herd::model {

/// The whole text of a file. Throws InputError naming the file ("cannot read the <what>").
std::string read_text_file(const std::filesystem::path& file, std::string_view what);

/// Parses JSON text; malformed JSON is an InputError naming `source` with line and column.
nlohmann::json parse_json(const std::string& text, const std::string& source);

/// Reads and parses a JSON file, then runs `parse` on it; a ValueError (or a JSON type error) from
/// `parse` becomes an InputError naming the file and the JSON pointer.
template <typename Parse>
auto parse_json_file(const std::filesystem::path& file, std::string_view what, Parse parse) {
  const nlohmann::json doc = parse_json(read_text_file(file, what), file.string());
  try {
    return parse(doc);
  } catch (const ValueError& e) {
    throw InputError(file.string(), e.pointer(), e.message());
  } catch (const nlohmann::json::exception& e) {
    throw InputError(file.string(), "", "invalid " + std::string(what) + ": " + e.what());
  }
}

/// Writes `content` to `path` atomically. Throws std::runtime_error naming the path on failure.
void write_file_atomically(const std::filesystem::path& path, std::string_view content);

}  // namespace herd::model
