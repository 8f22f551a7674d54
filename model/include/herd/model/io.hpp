#pragma once
// Output files are written atomically: to a temporary file beside the target, then renamed, so a
// reader never sees half a file and a failed run leaves nothing behind.
#include <filesystem>
#include <string_view>

namespace herd::model {

/// Writes `content` to `path` atomically. Throws std::runtime_error naming the path on failure.
void write_file_atomically(const std::filesystem::path& path, std::string_view content);

}  // namespace herd::model
