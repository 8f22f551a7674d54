#include "herd/model/params.hpp"

#include <algorithm>
#include <cmath>
#include <optional>
#include <set>
#include <unordered_map>

#include "herd/model/error.hpp"
#include "herd/model/io.hpp"

namespace herd::model {

namespace {

using nlohmann::json;

const std::unordered_map<std::string_view, const ParamDecl*>& param_index() {
  static const auto index = [] {
    std::unordered_map<std::string_view, const ParamDecl*> m;
    for (const auto& d : scenario_params()) m.emplace(d.path, &d);
    return m;
  }();
  return index;
}

const ParamDecl* find_pattern(std::string_view pattern) {
  const auto& index = param_index();
  auto it = index.find(pattern);
  return it == index.end() ? nullptr : it->second;
}

std::string child_pattern(const std::string& parent, std::string_view key) {
  if (const ParamDecl* d = find_pattern(parent)) {
    if (d->type == ParamType::array) return parent + "[]";
    if (d->type == ParamType::map) return parent + ".*";
  }
  return parent.empty() ? std::string(key) : parent + "." + std::string(key);
}

bool is_section(std::string_view pattern) {
  for (const auto& d : scenario_params())
    if (d.path.size() > pattern.size() && d.path.substr(0, pattern.size()) == pattern &&
        (d.path[pattern.size()] == '.' || d.path[pattern.size()] == '['))
      return true;
  return false;
}

// The declared names directly under `pattern`, for suggestions.
std::set<std::string> child_names(std::string_view pattern) {
  std::set<std::string> names;
  const std::size_t skip = pattern.empty() ? 0 : pattern.size() + 1;
  for (const auto& d : scenario_params()) {
    if (!pattern.empty() && (d.path.size() <= pattern.size() || d.path.substr(0, pattern.size()) != pattern ||
                             d.path[pattern.size()] != '.'))
      continue;
    std::string_view rest = d.path.substr(skip);
    names.emplace(rest.substr(0, std::min(rest.find('.'), rest.find('['))));
  }
  return names;
}

std::string escape_token(std::string_view key) {
  std::string out;
  for (char c : key) {
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out += c;
  }
  return out;
}

std::string unescape_token(std::string token) {
  std::string out;
  for (std::size_t i = 0; i < token.size(); ++i) {
    if (token[i] == '~' && i + 1 < token.size()) {
      out += token[i + 1] == '1' ? '/' : '~';
      ++i;
    } else {
      out += token[i];
    }
  }
  return out;
}

std::string quoted(const json& v) { return show_value(v); }

std::string join_choices(std::string_view choices) {
  std::string out;
  for (auto c : split_choices(choices)) out += (out.empty() ? "" : ", ") + std::string(c);
  return out;
}

std::size_t common_prefix(std::string_view a, std::string_view b) {
  std::size_t n = 0;
  while (n < a.size() && n < b.size() && a[n] == b[n]) ++n;
  return n;
}

std::string suggest(std::string_view key, const std::set<std::string>& names) {
  std::vector<std::string> v(names.begin(), names.end());
  return closest_spelling(key, v);
}

void check_range(const ParamDecl& d, double v, const std::string& ptr, const json& shown) {
  const char* what = nullptr;
  switch (d.range) {
    case Range::any: return;
    case Range::positive: if (!(v > 0)) what = "must be positive"; break;
    case Range::non_negative: if (!(v >= 0)) what = "must not be negative"; break;
    case Range::fraction: if (!(v >= 0 && v <= 1)) what = "must be between 0 and 1"; break;
    case Range::unit_fraction: if (!(v > 0 && v <= 1)) what = "must be above 0 and at most 1"; break;
    case Range::at_least_one: if (!(v >= 1)) what = "must be at least 1"; break;
  }
  if (what) throw ValueError(ptr, std::string(what) + ", got " + show_value(shown));
}

std::optional<double> as_count(const json& v) {
  if (v.is_number()) return v.get<double>();
  if (v.is_string()) return parse_quantity(v.get<std::string>(), Dimension::count);
  return std::nullopt;
}

void validate_leaf(const ParamDecl& d, const json& v, const std::string& ptr) {
  if (v.is_null() && d.default_json == "null") return;
  switch (d.type) {
    case ParamType::integer: {
      auto c = as_count(v);
      if (c && std::floor(*c) == *c && std::fabs(*c) > 9.0e18)
        throw ValueError(ptr, "too large: " + quoted(v) + " (integers here stop at 9e18)");
      if (!c || std::floor(*c) != *c)
        throw ValueError(ptr, "expected an integer, got " + quoted(v));
      check_range(d, *c, ptr, v);
      return;
    }
    case ParamType::number:
      if (!v.is_number()) throw ValueError(ptr, "expected a number, got " + quoted(v));
      check_range(d, v.get<double>(), ptr, v);
      return;
    case ParamType::boolean:
      if (!v.is_boolean()) throw ValueError(ptr, "expected true or false, got " + quoted(v));
      return;
    case ParamType::string:
      if (!v.is_string()) throw ValueError(ptr, "expected a string, got " + quoted(v));
      return;
    case ParamType::choice: {
      if (!v.is_string()) throw ValueError(ptr, "expected one of " + join_choices(d.choices) + ", got " + quoted(v));
      auto options = split_choices(d.choices);
      const auto s = v.get<std::string>();
      if (std::find(options.begin(), options.end(), s) == options.end())
        throw ValueError(ptr, quoted(v) + " is not one of " + join_choices(d.choices));
      return;
    }
    case ParamType::quantity: {
      std::optional<double> q;
      // A bare number would be taken in SI base units (400 for a bandwidth: 400 B/s), which is
      // never what "400" means; only 0 and dimensionless counts go without a unit.
      if (v.is_number() && d.dimension != Dimension::count && v.get<double>() != 0)
        throw ValueError(ptr, "needs a unit: write it as a string such as " + std::string(dimension_example(d.dimension)) +
                                  " (a bare " + show_value(v) + " would be " + show_value(v) + " " +
                                  std::string(base_unit(d.dimension)) + ")");
      if (v.is_number()) q = v.get<double>();
      else if (v.is_string()) q = parse_quantity(v.get<std::string>(), d.dimension);
      if (!q)
        throw ValueError(ptr, "expected a " + std::string(dimension_name(d.dimension)) + " such as " +
                                  std::string(dimension_example(d.dimension)) + ", got " + quoted(v));
      if (!std::isfinite(*q)) throw ValueError(ptr, "is too large once converted to SI units, got " + quoted(v));
      check_range(d, *q, ptr, v);
      return;
    }
    case ParamType::string_list: {
      if (!v.is_array()) throw ValueError(ptr, "expected a list of strings, got " + quoted(v));
      auto options = split_choices(d.choices);
      for (std::size_t i = 0; i < v.size(); ++i) {
        const std::string item_ptr = ptr + "/" + std::to_string(i);
        if (!v[i].is_string()) throw ValueError(item_ptr, "expected a string, got " + quoted(v[i]));
        if (!options.empty() && std::find(options.begin(), options.end(), v[i].get<std::string>()) == options.end())
          throw ValueError(item_ptr, quoted(v[i]) + " is not one of " + join_choices(d.choices));
      }
      return;
    }
    case ParamType::integer_list: {
      if (!v.is_array()) throw ValueError(ptr, "expected a list of integers, got " + quoted(v));
      for (std::size_t i = 0; i < v.size(); ++i) {
        const std::string item_ptr = ptr + "/" + std::to_string(i);
        auto c = as_count(v[i]);
        if (c && std::floor(*c) == *c && std::fabs(*c) > 9.0e18)
          throw ValueError(item_ptr, "too large: " + quoted(v[i]) + " (integers here stop at 9e18)");
        if (!c || std::floor(*c) != *c)
          throw ValueError(item_ptr, "expected an integer, got " + quoted(v[i]));
        check_range(d, *c, item_ptr, v[i]);
      }
      return;
    }
    case ParamType::object:
      if (!v.is_object()) throw ValueError(ptr, "expected an object, got " + quoted(v));
      return;
    case ParamType::array:
    case ParamType::map:
      return;  // containers are walked by validate_node
  }
}

void validate_object(const json& node, const std::string& pattern, const std::string& ptr);

void validate_value(const json& v, const std::string& pattern, const std::string& ptr) {
  const ParamDecl* d = find_pattern(pattern);
  if (d && d->type == ParamType::array) {
    if (!v.is_array()) throw ValueError(ptr, "expected a list, got " + quoted(v));
    for (std::size_t i = 0; i < v.size(); ++i) {
      const std::string item = ptr + "/" + std::to_string(i);
      if (!v[i].is_object()) throw ValueError(item, "expected an object, got " + quoted(v[i]));
      validate_object(v[i], pattern + "[]", item);
    }
  } else if (d && d->type == ParamType::map) {
    if (!v.is_object()) throw ValueError(ptr, "expected an object, got " + quoted(v));
    const std::string entry = pattern + ".*";
    for (const auto& [k, item] : v.items()) validate_value(item, entry, ptr + "/" + escape_token(k));
  } else if (d) {
    validate_leaf(*d, v, ptr);
  } else {
    if (!v.is_object()) throw ValueError(ptr, "expected an object, got " + quoted(v));
    validate_object(v, pattern, ptr);
  }
}

void validate_object(const json& node, const std::string& pattern, const std::string& ptr) {
  for (const auto& [key, v] : node.items()) {
    const std::string child = child_pattern(pattern, key);
    const std::string child_ptr = ptr + "/" + escape_token(key);
    if (!find_pattern(child) && !is_section(child)) {
      std::string message = "unknown key \"" + key + "\"";
      const std::string guess = suggest(key, child_names(pattern));
      if (!guess.empty()) message += " (did you mean \"" + guess + "\"?)";
      throw ValueError(child_ptr, message);
    }
    validate_value(v, child, child_ptr);
  }
}

// "/run/batch_schedule/2/seq_len" -> "run.batch_schedule[].seq_len"
std::string pattern_of(std::string_view pointer) {
  std::string pattern;
  std::size_t pos = 0;
  while (pos < pointer.size()) {
    std::size_t next = pointer.find('/', pos + 1);
    std::string token(pointer.substr(pos + 1, next == std::string_view::npos ? std::string_view::npos : next - pos - 1));
    pattern = child_pattern(pattern, unescape_token(token));
    pos = next == std::string_view::npos ? pointer.size() : next;
  }
  return pattern;
}

}  // namespace

std::vector<std::string_view> split_choices(std::string_view choices) {
  std::vector<std::string_view> out;
  while (!choices.empty()) {
    auto bar = choices.find('|');
    out.push_back(choices.substr(0, bar));
    if (bar == std::string_view::npos) break;
    choices.remove_prefix(bar + 1);
  }
  return out;
}

std::string closest_spelling(std::string_view word, const std::vector<std::string>& candidates) {
  // Fewest edits wins; among equals, the longest shared prefix ("tpp" -> "tp", not "pp").
  std::string best;
  std::size_t best_distance = std::max<std::size_t>(2, word.size() / 3) + 1, best_prefix = 0;
  for (const auto& c : candidates) {
    const std::size_t d = edit_distance(word, c), prefix = common_prefix(word, c);
    if (d < best_distance || (d == best_distance && !best.empty() && prefix > best_prefix))
      best_distance = d, best_prefix = prefix, best = c;
  }
  return best;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0u : 1u)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

const ParamDecl* find_param(std::string_view json_pointer) { return find_pattern(pattern_of(json_pointer)); }

void validate_against_schema(const nlohmann::json& doc) {
  if (!doc.is_object()) throw ValueError("", "a scenario must be a JSON object, got " + quoted(doc).substr(0, 40));
  validate_object(doc, "", "");
}

json ParamReader::raw(std::string_view pointer) const {
  const json::json_pointer p{std::string(pointer)};
  if (doc_.contains(p) && !doc_.at(p).is_null()) return doc_.at(p);
  const ParamDecl* d = find_param(pointer);
  if (!d) throw std::logic_error("herd: reading undeclared scenario key " + std::string(pointer));
  if (d->default_json.empty()) return nullptr;
  return json::parse(d->default_json);
}

bool ParamReader::has(std::string_view pointer) const { return !raw(pointer).is_null(); }

namespace {
[[noreturn]] void missing(std::string_view pointer) {
  throw ValueError(std::string(pointer), "is required");
}
}  // namespace

long long ParamReader::integer(std::string_view pointer) const {
  json v = raw(pointer);
  if (v.is_null()) missing(pointer);
  return static_cast<long long>(std::llround(*as_count(v)));
}

double ParamReader::number(std::string_view pointer) const {
  json v = raw(pointer);
  if (v.is_null()) missing(pointer);
  if (v.is_number()) return v.get<double>();
  const ParamDecl* d = find_param(pointer);
  auto q = parse_quantity(v.get<std::string>(), d ? d->dimension : Dimension::count);
  if (!q) throw ValueError(std::string(pointer), "expected a quantity, got " + show_value(v));
  return *q;
}

bool ParamReader::boolean(std::string_view pointer) const {
  json v = raw(pointer);
  if (v.is_null()) missing(pointer);
  return v.get<bool>();
}

std::string ParamReader::string(std::string_view pointer) const {
  json v = raw(pointer);
  if (v.is_null()) missing(pointer);
  return v.get<std::string>();
}

std::vector<std::string> ParamReader::strings(std::string_view pointer) const {
  json v = raw(pointer);
  if (v.is_null()) missing(pointer);
  return v.get<std::vector<std::string>>();
}

std::vector<long long> ParamReader::integers(std::string_view pointer) const {
  json v = raw(pointer);
  if (v.is_null()) missing(pointer);
  std::vector<long long> out;
  for (const auto& item : v) out.push_back(static_cast<long long>(*as_count(item)));
  return out;
}

std::string describe_params(bool markdown) {
  std::string out;
  std::string section;
  auto type_text = [](const ParamDecl& d) -> std::string {
    switch (d.type) {
      case ParamType::integer: return "integer";
      case ParamType::number: return "number";
      case ParamType::boolean: return "boolean";
      case ParamType::string: return "string";
      case ParamType::choice: return join_choices(d.choices);
      case ParamType::quantity: return std::string(dimension_name(d.dimension)) + ", e.g. " + std::string(dimension_example(d.dimension));
      case ParamType::string_list: return d.choices.empty() ? "list of strings" : "list of " + join_choices(d.choices);
      case ParamType::integer_list: return "list of integers";
      case ParamType::array: return "list of objects";
      case ParamType::map: return "object keyed by name";
      case ParamType::object: return "object";
    }
    return "";
  };
  for (const auto& d : scenario_params()) {
    std::string_view top = d.path.substr(0, d.path.find_first_of(".["));
    if (d.path.find_first_of(".[") == std::string_view::npos) top = "(top level)";
    if (top != section) {
      section = std::string(top);
      if (markdown) out += "\n## `" + section + "`\n\n| key | type | default | description |\n|---|---|---|---|\n";
      else out += "\n[" + section + "]\n";
    }
    const std::string def = d.default_json.empty() ? "—" : std::string(d.default_json);
    if (markdown) {
      std::string type = type_text(d);
      std::replace(type.begin(), type.end(), '|', '/');
      out += "| `" + std::string(d.path) + "` | " + type + " | `" + def + "` | " + std::string(d.description) + " |\n";
    } else {
      out += "  " + std::string(d.path) + "  (" + type_text(d) + "; default " + def + ")\n      " +
             std::string(d.description) + "\n";
    }
  }
  return out;
}

}  // namespace herd::model
