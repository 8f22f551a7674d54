#include "herd/model/calibration_profile.hpp"

#include <fstream>
#include <sstream>

#include "herd/model/error.hpp"

namespace herd::model {

namespace {
using nlohmann::json;

template <typename T>
void read_optional(const json& obj, const char* key, std::optional<T>& out, const std::string& ptr) {
  if (!obj.contains(key) || obj[key].is_null()) return;
  if (!obj[key].is_number()) throw ValueError(ptr + "/" + key, "expected a number, got " + obj[key].dump());
  out = obj[key].get<T>();
}

double positive(const json& obj, const char* key, const std::string& ptr) {
  if (!obj.contains(key) || !obj[key].is_number() || obj[key].get<double>() <= 0)
    throw ValueError(ptr + "/" + key, "expected a positive number");
  return obj[key].get<double>();
}

template <typename T>
void write_optional(json& obj, const char* key, const std::optional<T>& v) {
  if (v) obj[key] = *v;
}
}  // namespace

CalibrationProfile calibration_profile_from_json(const json& doc) {
  if (!doc.is_object() || doc.value("format", "") != "herd-calibration")
    throw ValueError("/format", "not a herd calibration profile (expected \"format\": \"herd-calibration\")");
  if (doc.value("version", 0) != 1) throw ValueError("/version", "unsupported profile version " + doc.value("version", json()).dump());
  CalibrationProfile p;
  p.gpu_name = doc.value("gpu", json::object()).value("name", "");
  p.measured_on = doc.value("gpu", json::object());
  const json compute = doc.value("compute", json::object());
  if (compute.contains("gemm")) {
    const json& g = compute["gemm"];
    read_optional(g, "efficiency", p.gemm_efficiency, "/compute/gemm");
    read_optional(g, "tile_m", p.gemm_tile_m, "/compute/gemm");
    read_optional(g, "tile_n", p.gemm_tile_n, "/compute/gemm");
    read_optional(g, "k_half", p.gemm_k_half, "/compute/gemm");
    const json points = g.value("points", json::array());
    for (std::size_t i = 0; i < points.size(); ++i) {
      const std::string ptr = "/compute/gemm/points/" + std::to_string(i);
      p.gemm_points.push_back({static_cast<std::int64_t>(positive(points[i], "m", ptr)),
                               static_cast<std::int64_t>(positive(points[i], "n", ptr)),
                               static_cast<std::int64_t>(positive(points[i], "k", ptr)),
                               positive(points[i], "efficiency", ptr)});
    }
  }
  if (compute.contains("attention")) {
    const json& a = compute["attention"];
    read_optional(a, "fwd_efficiency", p.attention_fwd_efficiency, "/compute/attention");
    read_optional(a, "bwd_efficiency", p.attention_bwd_efficiency, "/compute/attention");
    read_optional(a, "seq_half", p.attention_seq_half, "/compute/attention");
    const json points = a.value("points", json::array());
    for (std::size_t i = 0; i < points.size(); ++i) {
      const std::string ptr = "/compute/attention/points/" + std::to_string(i);
      p.attention_points.push_back({static_cast<std::int64_t>(positive(points[i], "seq_kv", ptr)),
                                    static_cast<int>(positive(points[i], "heads_q", ptr)),
                                    points[i].value("backward", false), positive(points[i], "efficiency", ptr)});
    }
  }
  if (compute.contains("hbm")) read_optional(compute["hbm"], "efficiency", p.hbm_efficiency, "/compute/hbm");
  read_optional(compute, "kernel_overhead_s", p.kernel_overhead_s, "/compute");
  for (const auto& [name, fit] : doc.value("collectives", json::object()).items()) {
    const std::string ptr = "/collectives/" + name;
    p.collectives[name] = {fit.value("alpha_s", 0.0), positive(fit, "bandwidth", ptr), fit.value("min_bytes", 0.0),
                           fit.value("max_bytes", 0.0)};
  }
  return p;
}

CalibrationProfile load_calibration_profile(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) throw InputError(file.string(), "", "cannot read the calibration profile");
  std::stringstream text;
  text << in.rdbuf();
  try {
    CalibrationProfile p = calibration_profile_from_json(json::parse(text.str()));
    p.source = file.string();
    return p;
  } catch (const json::parse_error& e) {
    throw InputError(file.string(), "", std::string("malformed JSON: ") + e.what());
  } catch (const ValueError& e) {
    throw InputError(file.string(), e.pointer(), e.message());
  }
}

json to_json(const CalibrationProfile& p) {
  json doc{{"format", "herd-calibration"}, {"version", 1}};
  doc["gpu"] = p.measured_on.is_object() ? p.measured_on : json::object();
  if (!p.gpu_name.empty()) doc["gpu"]["name"] = p.gpu_name;
  json gemm = json::object();
  write_optional(gemm, "efficiency", p.gemm_efficiency);
  write_optional(gemm, "tile_m", p.gemm_tile_m);
  write_optional(gemm, "tile_n", p.gemm_tile_n);
  write_optional(gemm, "k_half", p.gemm_k_half);
  gemm["points"] = json::array();
  for (const auto& g : p.gemm_points) gemm["points"].push_back({{"m", g.m}, {"n", g.n}, {"k", g.k}, {"efficiency", g.efficiency}});
  json attention = json::object();
  write_optional(attention, "fwd_efficiency", p.attention_fwd_efficiency);
  write_optional(attention, "bwd_efficiency", p.attention_bwd_efficiency);
  write_optional(attention, "seq_half", p.attention_seq_half);
  attention["points"] = json::array();
  for (const auto& a : p.attention_points)
    attention["points"].push_back({{"seq_kv", a.seq_kv}, {"heads_q", a.heads_q}, {"backward", a.backward}, {"efficiency", a.efficiency}});
  json compute{{"gemm", gemm}, {"attention", attention}};
  if (p.hbm_efficiency) compute["hbm"] = {{"efficiency", *p.hbm_efficiency}};
  write_optional(compute, "kernel_overhead_s", p.kernel_overhead_s);
  doc["compute"] = compute;
  json collectives = json::object();
  for (const auto& [name, f] : p.collectives)
    collectives[name] = {{"alpha_s", f.alpha_s}, {"bandwidth", f.bandwidth}, {"min_bytes", f.min_bytes}, {"max_bytes", f.max_bytes}};
  doc["collectives"] = collectives;
  return doc;
}

}  // namespace herd::model
