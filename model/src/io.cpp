#include "herd/model/io.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <system_error>

#include <unistd.h>

namespace herd::model {

std::string read_text_file(const std::filesystem::path& file, std::string_view what) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw InputError(file.string(), "", "cannot read the " + std::string(what));
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

namespace {
std::string line_and_column(std::string_view text, std::size_t offset) {
  std::size_t line = 1, column = 1;
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') ++line, column = 1;
    else ++column;
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

void show(const nlohmann::json& v, std::string& out, std::size_t limit) {
  if (out.size() > limit) return;
  if (v.is_object() || v.is_array()) {
    // Each level prints a bracket before descending, so the depth stays under `limit`.
    const bool object = v.is_object();
    out += object ? '{' : '[';
    bool first = true;
    for (auto it = v.begin(); it != v.end() && out.size() <= limit; ++it) {
      if (!first) out += ',';
      first = false;
      if (object) {
        out += nlohmann::json(it.key()).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        out += ':';
      }
      show(*it, out, limit);
    }
    out += object ? '}' : ']';
    return;
  }
  out += v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}
}  // namespace

std::string nesting_error(std::string_view text) {
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth)
        return "nesting deeper than " + std::to_string(kMaxJsonDepth) + " at " + line_and_column(text, i);
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return {};
}

std::string show_value(const nlohmann::json& value, std::size_t limit) {
  std::string out;
  show(value, out, limit);
  if (out.size() <= limit) return out;
  std::size_t cut = limit;
  while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;  // whole UTF-8 characters
  out.resize(cut);
  return out + "\u2026";
}

nlohmann::json parse_json(const std::string& text, const std::string& source) {
  if (auto deep = nesting_error(text); !deep.empty()) throw InputError(source, "", deep);
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    // Byte offset -> line and column for a readable message.
    std::size_t line = 1, column = 1;
    for (std::size_t i = 0; i + 1 < e.byte && i < text.size(); ++i) {
      if (text[i] == '\n') ++line, column = 1;
      else ++column;
    }
    std::string what = e.what();
    if (auto pos = what.find("syntax error"); pos != std::string::npos) what = what.substr(pos);
    throw InputError(source, "", "malformed JSON at line " + std::to_string(line) + ", column " + std::to_string(column) +
                                     ": " + what);
  } catch (const nlohmann::json::exception& e) {
    // A number too large for a double ("1e400") is out_of_range, not a parse_error.
    std::string what = e.what();
    if (auto pos = what.find("] "); pos != std::string::npos) what = what.substr(pos + 2);
    throw InputError(source, "", "malformed JSON: " + what);
  }
}

void check_output_path(const std::filesystem::path& path, const std::string& option) {
  const auto fail = [&](const std::string& why) { throw InputError(option, "", why); };
  if (path.empty()) fail("needs a file name");
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (std::filesystem::is_directory(status)) fail(path.string() + " is a directory");
  if (std::filesystem::exists(status)) {
    if (::access(path.c_str(), W_OK) != 0) fail("cannot write " + path.string() + ": " + std::strerror(errno));
    if (!std::filesystem::is_regular_file(status)) return;  // a device or a pipe is written in place
  }
  const std::filesystem::path dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  if (!std::filesystem::is_directory(dir, ec)) fail("cannot write " + path.string() + ": no directory " + dir.string());
  if (::access(dir.c_str(), W_OK) != 0) fail("cannot write " + path.string() + ": " + std::strerror(errno));
}

namespace {

bool written_in_place(const std::filesystem::path& path) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  // A device or a pipe: renaming over it would replace it, so write to it.
  return std::filesystem::exists(status) && !std::filesystem::is_regular_file(status) &&
         !std::filesystem::is_directory(status);
}

constexpr std::size_t kAtomicFileBuffer = std::size_t{1} << 20;

}  // namespace

AtomicFile::AtomicFile(const std::filesystem::path& path) : path_(path) {
  if (!written_in_place(path)) tmp_ = path.string() + ".tmp." + std::to_string(::getpid());
  buffer_ = std::make_unique<char[]>(kAtomicFileBuffer);
  out_.rdbuf()->pubsetbuf(buffer_.get(), static_cast<std::streamsize>(kAtomicFileBuffer));
  out_.open(tmp_.empty() ? path_ : tmp_, std::ios::binary | std::ios::trunc);
  if (!out_) throw std::runtime_error("cannot write " + path_.string() + ": " + std::strerror(errno));
}

AtomicFile::~AtomicFile() {
  if (done_ || tmp_.empty()) return;
  out_.close();
  std::error_code ignored;
  std::filesystem::remove(tmp_, ignored);
}

void AtomicFile::write(std::string_view text) {
  out_.write(text.data(), static_cast<std::streamsize>(text.size()));
  size_ += text.size();
  if (!out_) throw std::runtime_error("cannot write " + path_.string() + ": " + std::strerror(errno));
}

void AtomicFile::commit() {
  out_.flush();
  if (!out_) throw std::runtime_error("cannot write " + path_.string() + ": " + std::strerror(errno));
  out_.close();
  if (!out_) throw std::runtime_error("cannot write " + path_.string());
  if (!tmp_.empty()) {
    std::error_code ec;
    std::filesystem::rename(tmp_, path_, ec);
    if (ec) throw std::runtime_error("cannot write " + path_.string() + ": " + ec.message());
  }
  done_ = true;
}

void write_file_atomically(const std::filesystem::path& path, std::string_view content) {
  AtomicFile file(path);
  file.write(content);
  file.commit();
}

}  // namespace herd::model
