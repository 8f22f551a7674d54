#include "mutator.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>

#include <nlohmann/json.hpp>

namespace herd::fuzz {
namespace {

using nlohmann::json;

constexpr std::string_view kSentinel = "@@herd-fuzz-number-";

// Deepest bracket nesting outside strings: the mutator parses only shallow documents, so a nesting
// bomb in the corpus cannot overflow its own stack.
int bracket_depth(std::string_view text) {
  int depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (const char c : text) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '[' || c == '{') deepest = std::max(deepest, ++depth);
    else if (c == ']' || c == '}') --depth;
  }
  return deepest;
}

// RFC 6901: "~" is written "~0" and "/" is written "~1" in a reference token.
std::string escape_token(const std::string& key) {
  std::string out;
  for (const char c : key) {
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out += c;
  }
  return out;
}

void collect_pointers(const json& node, const std::string& at, std::vector<std::string>& out) {
  if (out.size() >= 4096) return;
  out.push_back(at);
  if (node.is_object()) {
    for (const auto& [key, value] : node.items()) collect_pointers(value, at + "/" + escape_token(key), out);
  } else if (node.is_array()) {
    for (std::size_t i = 0; i < node.size(); ++i) collect_pointers(node[i], at + "/" + std::to_string(i), out);
  }
}

// Positions [begin, end) of the numbers in `text` (an optional sign, digits, fraction, exponent).
std::vector<std::pair<std::size_t, std::size_t>> number_spans(std::string_view text) {
  std::vector<std::pair<std::size_t, std::size_t>> spans;
  std::size_t i = 0;
  const auto digit = [&](std::size_t k) { return k < text.size() && std::isdigit(static_cast<unsigned char>(text[k])); };
  while (i < text.size()) {
    if (!digit(i)) { ++i; continue; }
    std::size_t begin = i;
    if (begin > 0 && (text[begin - 1] == '-' || text[begin - 1] == '+')) --begin;
    while (digit(i)) ++i;
    if (i < text.size() && text[i] == '.' && digit(i + 1)) { ++i; while (digit(i)) ++i; }
    if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
      std::size_t k = i + 1;
      if (k < text.size() && (text[k] == '-' || text[k] == '+')) ++k;
      if (digit(k)) { i = k; while (digit(i)) ++i; }
    }
    spans.emplace_back(begin, i);
  }
  return spans;
}

}  // namespace

std::uint64_t Rng::next() {
  // SplitMix64 (Steele, Lea and Flood, "Fast splittable pseudorandom number generators", 2014).
  std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

const std::vector<std::string>& hostile_numbers() {
  static const std::vector<std::string> numbers = {
      "0", "-0", "1", "-1", "2", "3", "7", "8", "255", "256", "1000", "65535", "65536",
      "2147483647", "2147483648", "-2147483649", "4294967295", "4294967296", "9007199254740993",
      "9223372036854775807", "9223372036854775808", "-9223372036854775809", "18446744073709551615",
      "18446744073709551616", "1e9", "1e12", "1e15", "1e18", "1e30", "1e100", "1e308", "-1e308",
      "1.7976931348623157e308", "1e-308", "5e-324", "1e-30", "0.5", "-0.5", "0.999999", "1.000001",
      "1e400", "-1e400", "1e-400", "0.0000001", "123456789012345678901234567890"};
  return numbers;
}

const std::vector<std::string>& hostile_strings() {
  static const std::vector<std::string> strings = {
      "", " ", "0", "-1", "1e400", "nan", "NaN", "inf", "-inf", "Infinity", "1 ns", "0 s", "-1 s",
      "1e30 d", "1e-30 s", "1 B/s", "0 B/s", "1e308 GB", "1e400 GB", "-1 GB", "1 GB", "80 GiB",
      "400 Gbps", "1 W", "1e12 W", "0 W", "1 /s", "1e12 /h", "16Mi", "1e30T", "1G", "18446744073709551616",
      "1 parsec", "GB", " 1 GB ", "1  GB", "1e", "--", "\u00b5s", "1 \u00b5s", "\u00e9", "\t", "a\nb"};
  return strings;
}

Mutator::Mutator(const Target& target, std::uint64_t seed, MutatorLimits limits)
    : target_(target), rng_(seed), limits_(limits) {}

std::string Mutator::word() {
  if (!target_.dictionary.empty() && rng_.chance(70)) return target_.dictionary[rng_.below(target_.dictionary.size())];
  return hostile_strings()[rng_.below(hostile_strings().size())];
}

std::string Mutator::hostile_value_text() {
  switch (rng_.below(4)) {
    case 0: return hostile_numbers()[rng_.below(hostile_numbers().size())];
    case 1: return json(hostile_strings()[rng_.below(hostile_strings().size())]).dump();
    case 2: return json(word()).dump();
    default: {
      static const std::vector<std::string> shapes = {"null", "true", "false", "[]", "{}", "[0]", "[[[]]]", "{\"a\":1}"};
      return shapes[rng_.below(shapes.size())];
    }
  }
}

std::string Mutator::mutate(const std::string& input, const std::vector<std::string>& corpus) {
  std::string out;
  const int rounds = 1 + static_cast<int>(rng_.below(3));
  out = input;
  for (int r = 0; r < rounds; ++r) {
    switch (target_.kind) {
      case InputKind::json: out = rng_.chance(75) ? mutate_json(out, corpus) : mutate_text(out, corpus); break;
      case InputKind::set_lines: out = rng_.chance(80) ? mutate_set_lines(out) : mutate_text(out, corpus); break;
      case InputKind::text: out = mutate_text(out, corpus); break;
    }
  }
  if (out.size() > limits_.max_len) out.resize(limits_.max_len);
  return out;
}

std::string Mutator::mutate_json(const std::string& input, const std::vector<std::string>& corpus) {
  if (bracket_depth(input) > 64) return mutate_text(input, corpus);
  json doc = json::parse(input, nullptr, false);
  if (doc.is_discarded()) return mutate_text(input, corpus);

  std::vector<std::string> textual;  // numbers no double holds, put back after dump()
  const auto hostile = [&]() -> json {
    const std::string text = hostile_value_text();
    json value = json::parse(text, nullptr, false);
    if (!value.is_discarded() && !(value.is_number_float() && !std::isfinite(value.get<double>())) &&
        value.dump() == text)
      return value;
    textual.push_back(text);
    return json(std::string(kSentinel) + std::to_string(textual.size() - 1) + "@@");
  };

  std::vector<std::string> pointers;
  collect_pointers(doc, "", pointers);
  const json::json_pointer at{pointers[rng_.below(pointers.size())]};
  try {
    switch (rng_.below(10)) {
      case 0:
      case 1:
      case 2:
        if (at.empty()) doc = hostile();
        else doc[at] = hostile();
        break;
      case 3:
      case 4: {  // set a declared key somewhere in the document
        if (target_.paths.empty()) { doc[at] = hostile(); break; }
        std::string path = target_.paths[rng_.below(target_.paths.size())];
        std::string pointer;
        std::size_t start = 0;
        while (start <= path.size()) {
          std::size_t dot = path.find('.', start);
          if (dot == std::string::npos) dot = path.size();
          std::string key = path.substr(start, dot - start);
          const bool element = key.size() > 2 && key.ends_with("[]");
          if (element) key.resize(key.size() - 2);
          if (key == "*") key = word();
          pointer += '/';
          pointer += escape_token(key);
          if (element) {
            pointer += '/';
            pointer += std::to_string(rng_.below(3));
          }
          start = dot + 1;
        }
        const json::json_pointer p{pointer};
        json value = hostile();
        if (rng_.chance(30) && doc.contains(p) && doc[p].is_number()) {  // nudge an existing number
          const double v = doc[p].get<double>();
          const double factors[] = {2, 0.5, 1024, 1.0 / 1024, -1, 1e6, 1e-6};
          value = v * factors[rng_.below(7)];
        }
        doc[p] = value;
        break;
      }
      case 5:  // delete a node
        if (!at.empty()) {
          json& parent = doc[at.parent_pointer()];
          if (parent.is_object()) parent.erase(at.back());
          else parent.erase(std::stoul(at.back()));
        }
        break;
      case 6: {  // copy another node over this one
        const json::json_pointer from{pointers[rng_.below(pointers.size())]};
        json copy = doc[from];
        if (at.empty()) doc = copy;
        else doc[at] = copy;
        break;
      }
      case 7: {  // grow an array or nest a value
        json& node = at.empty() ? doc : doc[at];
        if (node.is_array() && !node.empty()) {
          const std::size_t copies = rng_.chance(80) ? 1 + rng_.below(4) : 1 + rng_.below(2000);
          const json element = node[rng_.below(node.size())];
          for (std::size_t i = 0; i < copies; ++i) node.push_back(element);
        } else {
          node = rng_.chance(50) ? json::array({node}) : json{{word(), node}};
        }
        break;
      }
      case 8: {  // splice a node of another corpus document
        const std::string& other = corpus[rng_.below(corpus.size())];
        if (bracket_depth(other) > 64) break;
        json donor = json::parse(other, nullptr, false);
        if (donor.is_discarded()) break;
        std::vector<std::string> donor_pointers;
        collect_pointers(donor, "", donor_pointers);
        const json piece = donor[json::json_pointer{donor_pointers[rng_.below(donor_pointers.size())]}];
        if (at.empty()) doc = piece;
        else doc[at] = piece;
        break;
      }
      default: {  // a key of the dictionary added to an object
        json& node = at.empty() ? doc : doc[at];
        if (node.is_object()) node[word()] = hostile();
        else if (node.is_array()) node.push_back(hostile());
        else node = hostile();
        break;
      }
    }
  } catch (const std::exception&) {
    // A path through a string or number: keep the document as it was mutated so far.
  }

  std::string text = rng_.chance(20) ? doc.dump(2) : doc.dump();
  for (std::size_t i = 0; i < textual.size(); ++i) {
    const std::string placeholder = "\"" + std::string(kSentinel) + std::to_string(i) + "@@\"";
    for (std::size_t pos = text.find(placeholder); pos != std::string::npos; pos = text.find(placeholder, pos))
      text.replace(pos, placeholder.size(), textual[i]);
  }
  return text;
}

std::string Mutator::mutate_set_lines(const std::string& input) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < input.size()) {
    std::size_t end = input.find('\n', start);
    if (end == std::string::npos) end = input.size();
    if (end > start) lines.push_back(input.substr(start, end - start));
    start = end + 1;
  }
  const auto path = [&] {
    if (target_.paths.empty()) return word();
    std::string p = target_.paths[rng_.below(target_.paths.size())];
    for (std::size_t pos = p.find("[]"); pos != std::string::npos; pos = p.find("[]"))
      p.replace(pos, 2, std::string(1, '.').append(std::to_string(rng_.below(3))));
    for (std::size_t pos = p.find('*'); pos != std::string::npos; pos = p.find('*')) p.replace(pos, 1, word());
    return p;
  };
  const auto value = [&]() -> std::string {
    switch (rng_.below(3)) {
      case 0: return hostile_numbers()[rng_.below(hostile_numbers().size())];
      case 1: return hostile_strings()[rng_.below(hostile_strings().size())];
      default: return word();
    }
  };
  switch (rng_.below(4)) {
    case 0:
    case 1:
      lines.push_back(path() + "=" + value());
      break;
    case 2:
      if (!lines.empty()) {
        std::string& line = lines[rng_.below(lines.size())];
        const std::size_t eq = line.find('=');
        line = (eq == std::string::npos ? line : line.substr(0, eq)) + "=" + value();
      }
      break;
    default:
      if (!lines.empty()) lines.erase(lines.begin() + static_cast<std::ptrdiff_t>(rng_.below(lines.size())));
      break;
  }
  std::string out;
  for (const auto& line : lines) out += line + "\n";
  return out;
}

std::string Mutator::mutate_text(const std::string& input, const std::vector<std::string>& corpus) {
  std::string s = input;
  const auto pos = [&](std::size_t size) { return size == 0 ? 0 : rng_.below(size + 1); };
  switch (rng_.below(10)) {
    case 0:
    case 1:
    case 2: {  // a number replaced by a hostile one or scaled
      const auto spans = number_spans(s);
      if (spans.empty()) { s.insert(pos(s.size()), hostile_numbers()[rng_.below(hostile_numbers().size())]); break; }
      const auto [b, e] = spans[rng_.below(spans.size())];
      std::string replacement = hostile_numbers()[rng_.below(hostile_numbers().size())];
      if (rng_.chance(30)) replacement = s.substr(b, e - b) + (rng_.chance(50) ? "000" : "e9");
      s.replace(b, e - b, replacement);
      break;
    }
    case 3:
      if (!s.empty()) s[rng_.below(s.size())] ^= static_cast<char>(1u << rng_.below(8));
      break;
    case 4:
      s.insert(pos(s.size()), 1, static_cast<char>(rng_.below(256)));
      break;
    case 5:
      if (!s.empty()) {
        const std::size_t b = rng_.below(s.size());
        s.erase(b, 1 + rng_.below(std::min<std::size_t>(64, s.size() - b)));
      }
      break;
    case 6:
      if (!s.empty()) {
        const std::size_t b = rng_.below(s.size());
        const std::string chunk = s.substr(b, 1 + rng_.below(std::min<std::size_t>(256, s.size() - b)));
        const std::size_t copies = rng_.chance(90) ? 1 : 1 + rng_.below(1000);
        std::string repeated;
        for (std::size_t i = 0; i < copies && repeated.size() < limits_.max_len; ++i) repeated += chunk;
        s.insert(pos(s.size()), repeated);
      }
      break;
    case 7:
      s.insert(pos(s.size()), word());
      break;
    case 8: {  // lines: delete, duplicate or swap
      std::vector<std::string> lines;
      std::size_t start = 0;
      while (start <= s.size()) {
        std::size_t end = s.find('\n', start);
        if (end == std::string::npos) end = s.size();
        lines.push_back(s.substr(start, end - start));
        start = end + 1;
      }
      const std::size_t a = rng_.below(lines.size()), b = rng_.below(lines.size());
      switch (rng_.below(3)) {
        case 0: lines.erase(lines.begin() + static_cast<std::ptrdiff_t>(a)); break;
        case 1: lines.insert(lines.begin() + static_cast<std::ptrdiff_t>(a), lines[b]); break;
        default: std::swap(lines[a], lines[b]); break;
      }
      s.clear();
      for (std::size_t i = 0; i < lines.size(); ++i) s += (i ? "\n" : "") + lines[i];
      break;
    }
    default: {  // splice with another input, or a nesting bomb
      if (rng_.chance(20)) {
        const std::size_t depth = 1 + rng_.below(rng_.chance(50) ? 300 : 100000);
        const std::size_t at = pos(s.size());
        s.insert(at, std::string(depth, rng_.chance(50) ? '[' : '{'));
        break;
      }
      const std::string& other = corpus[rng_.below(corpus.size())];
      s = s.substr(0, pos(s.size())) + other.substr(pos(other.size()));
      break;
    }
  }
  return s;
}

}  // namespace herd::fuzz
