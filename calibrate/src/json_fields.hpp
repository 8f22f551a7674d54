#pragma once
// Typed reads of JSON members that fail with the JSON pointer of the offending value.
#include <string>

#include <nlohmann/json.hpp>

#include "herd/model/error.hpp"
#include "herd/model/io.hpp"

namespace herd::calibrate::detail {

using nlohmann::json;

inline const json& field(const json& obj, const std::string& key, const std::string& ptr) {
  if (!obj.is_object() || !obj.contains(key)) throw model::ValueError(ptr + "/" + key, "missing");
  return obj[key];
}

inline double number(const json& obj, const std::string& key, const std::string& ptr) {
  const json& v = field(obj, key, ptr);
  if (!v.is_number()) throw model::ValueError(ptr + "/" + key, "expected a number, got " + model::show_value(v));
  return v.get<double>();
}

inline double positive(const json& obj, const std::string& key, const std::string& ptr) {
  const double v = number(obj, key, ptr);
  if (!(v > 0)) throw model::ValueError(ptr + "/" + key, "expected a positive number, got " + model::show_value(obj[key]));
  return v;
}

inline std::int64_t count(const json& obj, const std::string& key, const std::string& ptr) {
  const json& v = field(obj, key, ptr);
  if (!v.is_number_integer() || v.get<std::int64_t>() < 1)
    throw model::ValueError(ptr + "/" + key, "expected a positive integer, got " + model::show_value(v));
  return v.get<std::int64_t>();
}

inline double number_or(const json& obj, const std::string& key, double fallback, const std::string& ptr) {
  if (!obj.is_object() || !obj.contains(key) || obj[key].is_null()) return fallback;
  return number(obj, key, ptr);
}

inline std::string text_or(const json& obj, const std::string& key, const std::string& ptr) {
  if (!obj.is_object() || !obj.contains(key) || obj[key].is_null()) return "";
  if (!obj[key].is_string()) throw model::ValueError(ptr + "/" + key, "expected a string, got " + model::show_value(obj[key]));
  return obj[key].get<std::string>();
}

inline bool flag_or(const json& obj, const std::string& key, bool fallback, const std::string& ptr) {
  if (!obj.is_object() || !obj.contains(key) || obj[key].is_null()) return fallback;
  if (!obj[key].is_boolean()) throw model::ValueError(ptr + "/" + key, "expected true or false, got " + model::show_value(obj[key]));
  return obj[key].get<bool>();
}

}  // namespace herd::calibrate::detail
