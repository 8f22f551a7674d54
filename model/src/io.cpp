#include "herd/model/io.hpp"

#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <system_error>

#include <atomic>
#include <csignal>

#include <unistd.h>

namespace herd::model {

std::string output_name(const std::filesystem::path& file) { return file.native() == "-" ? "<stdout>" : file.string(); }

std::string source_name(const std::filesystem::path& file) {
  return file.native() == kStdinFile ? "<stdin>" : file.string();
}

std::string read_text_file(const std::filesystem::path& file, std::string_view what) {
  std::stringstream text;
  if (file.native() == kStdinFile) {
    // Empty standard input leaves the stream failed with nothing read: an empty text, which the
    // parser then names.
    if (std::cin.rdbuf()) text << std::cin.rdbuf();
    if (std::cin.bad()) throw InputError(source_name(file), "", "cannot read the " + std::string(what));
    return text.str();
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) throw InputError(file.string(), "", "cannot read the " + std::string(what));
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

std::string utf8_error(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    std::size_t extra = 0;
    std::uint32_t min = 0, cp = 0;
    if (c < 0x80) { ++i; continue; }
    if ((c & 0xe0) == 0xc0) extra = 1, min = 0x80, cp = c & 0x1f;
    else if ((c & 0xf0) == 0xe0) extra = 2, min = 0x800, cp = c & 0x0f;
    else if ((c & 0xf8) == 0xf0) extra = 3, min = 0x10000, cp = c & 0x07;
    else return "invalid UTF-8 at byte " + std::to_string(i);
    if (i + extra >= text.size()) return "invalid UTF-8 at byte " + std::to_string(i);
    for (std::size_t k = 1; k <= extra; ++k) {
      const auto d = static_cast<unsigned char>(text[i + k]);
      if ((d & 0xc0) != 0x80) return "invalid UTF-8 at byte " + std::to_string(i);
      cp = (cp << 6) | (d & 0x3f);
    }
    // Overlong forms, UTF-16 surrogates and code points past U+10FFFF are not UTF-8 (RFC 3629).
    if (cp < min || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) return "invalid UTF-8 at byte " + std::to_string(i);
    i += extra + 1;
  }
  return {};
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
    // The library quotes the whole token it was reading (an unterminated string: the rest of the
    // file); keep its last characters, where the error is.
    constexpr std::string_view kLastRead = "last read: '";
    if (const auto open = what.find(kLastRead); open != std::string::npos) {
      const auto begin = open + kLastRead.size();
      const auto end = what.rfind('\'');
      if (end != std::string::npos && end > begin + 40) what.replace(begin, end - begin - 40, "...");
    }
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

// The temporary files being written, for a signal handler to remove (unlink is async-signal-safe;
// the paths stay valid while registered: each AtomicFile unregisters before its tmp_ goes).
constexpr std::size_t kMaxTemporaryFiles = 32;
std::array<std::atomic<const char*>, kMaxTemporaryFiles> g_temporary_files{};

void register_temporary(const char* path) {
  for (auto& slot : g_temporary_files) {
    const char* empty = nullptr;
    if (slot.compare_exchange_strong(empty, path)) return;
  }
  // More at once than slots: that file is left behind on a signal, as before.
}

void unregister_temporary(const char* path) {
  for (auto& slot : g_temporary_files) {
    const char* mine = path;
    if (slot.compare_exchange_strong(mine, nullptr)) return;
  }
}

extern "C" void remove_temporaries_and_die(int sig) {
  for (auto& slot : g_temporary_files)
    if (const char* path = slot.exchange(nullptr)) ::unlink(path);
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

}  // namespace

void remove_temporary_files_on_signal() {
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
    struct sigaction action {};
    action.sa_handler = remove_temporaries_and_die;
    sigemptyset(&action.sa_mask);
    ::sigaction(sig, &action, nullptr);
  }
}

AtomicFile::AtomicFile(const std::filesystem::path& path) : path_(path) {
  if (!written_in_place(path)) tmp_ = path.string() + ".tmp." + std::to_string(::getpid());
  buffer_ = std::make_unique<char[]>(kAtomicFileBuffer);
  out_.rdbuf()->pubsetbuf(buffer_.get(), static_cast<std::streamsize>(kAtomicFileBuffer));
  if (!tmp_.empty()) register_temporary(tmp_.c_str());
  out_.open(tmp_.empty() ? path_ : tmp_, std::ios::binary | std::ios::trunc);
  if (!out_) {
    const int error = errno;
    if (!tmp_.empty()) unregister_temporary(tmp_.c_str());
    throw std::runtime_error("cannot write " + path_.string() + ": " + std::strerror(error));
  }
}

AtomicFile::~AtomicFile() {
  if (done_ || tmp_.empty()) return;
  unregister_temporary(tmp_.c_str());
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
    unregister_temporary(tmp_.c_str());
  }
  done_ = true;
}

void write_file_atomically(const std::filesystem::path& path, std::string_view content) {
  AtomicFile file(path);
  file.write(content);
  file.commit();
}

}  // namespace herd::model
