#include "herd/model/error.hpp"

namespace herd::model {

namespace {

// One line: control characters (a newline inside a key or a value) are shown escaped.
std::string one_line(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else if (c == '\t') out += "\\t";
    else if (u < 0x20 || u == 0x7f) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 0xf];
    } else {
      out += c;
    }
  }
  return out;
}

// At most `limit` bytes: the start and the end kept, "..." between (a cut never splits a UTF-8
// character).
std::string shorten(const std::string& text, std::size_t limit) {
  if (text.size() <= limit) return text;
  const auto boundary = [&](std::size_t i) {
    while (i > 0 && i < text.size() && (static_cast<unsigned char>(text[i]) & 0xc0) == 0x80) --i;
    return i;
  };
  const std::size_t head = boundary((limit - 3) * 2 / 3);
  std::size_t tail_start = text.size() - (limit - 3 - head);
  while (tail_start < text.size() && (static_cast<unsigned char>(text[tail_start]) & 0xc0) == 0x80) ++tail_start;
  return text.substr(0, head) + "..." + text.substr(tail_start);
}

// The message a user reads: one line, the source and the pointer each cut to a readable length and
// the whole to kMaxErrorMessage, however long the keys and values a hostile input carries.
std::string compose(const std::string& source, const std::string& pointer, const std::string& message) {
  std::string text = source.empty() ? std::string("input") : shorten(one_line(source), 120);
  text += ": ";
  if (!pointer.empty()) text += shorten(one_line(pointer), 80) + ": ";
  const std::size_t room = kMaxErrorMessage > text.size() + 40 ? kMaxErrorMessage - text.size() : 40;
  return text + shorten(one_line(message), room);
}

}  // namespace

InputError::InputError(std::string source, std::string pointer, std::string message)
    : std::runtime_error(compose(source, pointer, message)),
      source_(std::move(source)), pointer_(std::move(pointer)), message_(std::move(message)) {}

ValueError::ValueError(std::string pointer, std::string message)
    : std::runtime_error(pointer.empty() ? message : pointer + ": " + message),
      pointer_(std::move(pointer)), message_(std::move(message)) {}

}  // namespace herd::model
