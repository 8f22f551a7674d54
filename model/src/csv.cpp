#include "herd/model/csv.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace herd::model {

std::string csv_field(std::string_view text) {
  if (text.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(text);
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + '"';
}

std::string csv_number(double value) {
  if (std::isnan(value)) return {};
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  char text[40];
  // Whole numbers (bytes, counts) in full, up to where a double stops holding every integer.
  if (value == std::floor(value) && std::fabs(value) < 0x1p53) std::snprintf(text, sizeof text, "%.0f", value);
  else std::snprintf(text, sizeof text, "%.10g", value);
  return text;
}

namespace {
void collect(const nlohmann::json& v, const std::string& name, const std::vector<std::string>& skip,
             std::vector<std::pair<std::string, std::string>>& out) {
  if (!name.empty() && std::find(skip.begin(), skip.end(), name) != skip.end()) return;
  const std::string prefix = name.empty() ? name : name + ".";
  if (v.is_object()) {
    for (const auto& [key, child] : v.items()) collect(child, prefix + key, skip, out);
  } else if (v.is_array()) {
    for (std::size_t i = 0; i < v.size(); ++i) collect(v[i], prefix + std::to_string(i), skip, out);
  } else if (v.is_number_integer()) {
    out.emplace_back(name, v.is_number_unsigned() ? std::to_string(v.get<std::uint64_t>())
                                                  : std::to_string(v.get<std::int64_t>()));
  } else if (v.is_number()) {
    out.emplace_back(name, csv_number(v.get<double>()));
  } else if (v.is_boolean()) {
    out.emplace_back(name, v.get<bool>() ? "true" : "false");
  } else if (v.is_string()) {
    out.emplace_back(name, v.get<std::string>());
  } else {
    out.emplace_back(name, "");
  }
}
}  // namespace

std::vector<std::pair<std::string, std::string>> json_figures(const nlohmann::json& doc,
                                                              const std::vector<std::string>& skip) {
  std::vector<std::pair<std::string, std::string>> out;
  collect(doc, "", skip, out);
  return out;
}

CsvTable::CsvTable(std::vector<std::string> header) : columns_(header.size()) { append(header); }

void CsvTable::add_row(const std::vector<std::string>& fields) {
  if (fields.size() != columns_)
    throw std::invalid_argument("CSV row of " + std::to_string(fields.size()) + " fields under a header of " +
                                std::to_string(columns_));
  append(fields);
  ++rows_;
}

void CsvTable::append(const std::vector<std::string>& fields) {
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) text_ += ',';
    text_ += csv_field(fields[i]);
  }
  text_ += '\n';
}

}  // namespace herd::model
