#include "herd/model/calibration_profile.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <set>
#include <fstream>
#include <sstream>

#include "herd/model/error.hpp"
#include "herd/model/io.hpp"
#include "herd/model/hardware.hpp"
#include "herd/model/scenario.hpp"

namespace herd::model {

namespace {
using nlohmann::json;

const json& member(const json& obj, const char* key) {
  static const json null_value;  // immutable: a shared "absent" value
  return obj.is_object() && obj.contains(key) ? obj[key] : null_value;
}

void expect_object(const json& v, const std::string& ptr) {
  if (!v.is_null() && !v.is_object()) throw ValueError(ptr, "expected an object, got " + show_value(v));
}

const json& array_at(const json& obj, const char* key, const std::string& ptr) {
  const json& v = member(obj, key);
  if (!v.is_null() && !v.is_array()) throw ValueError(ptr + "/" + key, "expected an array, got " + show_value(v));
  return v;
}

template <typename T>
void read_optional(const json& obj, const char* key, std::optional<T>& out, const std::string& ptr, bool zero_ok = false) {
  const json& v = member(obj, key);
  if (v.is_null()) return;
  if (!v.is_number() || !(v.get<double>() > 0 || (zero_ok && v.get<double>() == 0)))
    throw ValueError(ptr + "/" + key, std::string("expected a ") + (zero_ok ? "non-negative" : "positive") + " number, got " + show_value(v));
  out = v.get<T>();
}

double positive(const json& obj, const char* key, const std::string& ptr) {
  const json& v = member(obj, key);
  if (!v.is_number() || !(v.get<double>() > 0)) throw ValueError(ptr + "/" + key, "expected a positive number");
  return v.get<double>();
}

double number_or(const json& obj, const char* key, double fallback, const std::string& ptr) {
  const json& v = member(obj, key);
  if (v.is_null()) return fallback;
  if (!v.is_number()) throw ValueError(ptr + "/" + key, "expected a number, got " + show_value(v));
  return v.get<double>();
}

std::string string_or(const json& obj, const char* key, const std::string& ptr) {
  const json& v = member(obj, key);
  if (v.is_null()) return "";
  if (!v.is_string()) throw ValueError(ptr + "/" + key, "expected a string, got " + show_value(v));
  return v.get<std::string>();
}

template <typename T>
void write_optional(json& obj, const char* key, const std::optional<T>& v) {
  if (v) obj[key] = *v;
}

void read_device(const json& dev, const std::string& ptr, CalibrationProfile& p) {
  expect_object(dev, ptr);
  p.measured_on = dev.is_object() ? dev : json::object();
  p.gpu_name = string_or(dev, "name", ptr);
  p.backend = string_or(dev, "backend", ptr);
  read_optional(dev, "peak_flops", p.peak_flops, ptr);
  read_optional(dev, "memory_bandwidth", p.memory_bandwidth, ptr);
  read_optional(dev, "parallel_units", p.parallel_units, ptr);
}

void read_gemm(const json& g, CalibrationProfile& p) {
  const std::string ptr = "/compute/gemm";
  expect_object(g, ptr);
  read_optional(g, "efficiency", p.gemm_efficiency, ptr);
  read_optional(g, "tile_m", p.gemm_tile_m, ptr);
  read_optional(g, "tile_n", p.gemm_tile_n, ptr);
  read_optional(g, "k_half", p.gemm_k_half, ptr);
  const json& points = array_at(g, "points", ptr);
  for (std::size_t i = 0; i < points.size(); ++i) {
    const std::string at = ptr + "/points/" + std::to_string(i);
    p.gemm_points.push_back({static_cast<std::int64_t>(positive(points[i], "m", at)),
                             static_cast<std::int64_t>(positive(points[i], "n", at)),
                             static_cast<std::int64_t>(positive(points[i], "k", at)), positive(points[i], "efficiency", at),
                             number_or(points[i], "residual", 0, at)});
  }
}

void read_attention(const json& a, CalibrationProfile& p) {
  const std::string ptr = "/compute/attention";
  expect_object(a, ptr);
  read_optional(a, "fwd_efficiency", p.attention_fwd_efficiency, ptr);
  read_optional(a, "bwd_efficiency", p.attention_bwd_efficiency, ptr);
  read_optional(a, "seq_half", p.attention_seq_half, ptr);
  p.attention_impl = string_or(a, "impl", ptr);
  const json& points = array_at(a, "points", ptr);
  for (std::size_t i = 0; i < points.size(); ++i) {
    const std::string at = ptr + "/points/" + std::to_string(i);
    const json& bwd = member(points[i], "backward");
    if (!bwd.is_null() && !bwd.is_boolean()) throw ValueError(at + "/backward", "expected true or false");
    p.attention_points.push_back({static_cast<std::int64_t>(positive(points[i], "seq_kv", at)),
                                  static_cast<int>(positive(points[i], "heads_q", at)), bwd.is_boolean() && bwd.get<bool>(),
                                  positive(points[i], "efficiency", at), number_or(points[i], "residual", 0, at)});
  }
}

void read_collective(const std::string& name, const json& fit, CalibrationProfile& p) {
  const std::string ptr = "/collectives/" + name;
  expect_object(fit, ptr);
  CollectiveFit c;
  c.alpha_s = number_or(fit, "alpha_s", 0, ptr);
  c.bandwidth = positive(fit, "bandwidth", ptr);
  c.min_bytes = number_or(fit, "min_bytes", 0, ptr);
  c.max_bytes = number_or(fit, "max_bytes", 0, ptr);
  c.ranks = static_cast<int>(number_or(fit, "ranks", 0, ptr));
  c.nodes = static_cast<int>(number_or(fit, "nodes", 0, ptr));
  c.rms_log_residual = number_or(fit, "rms_log_residual", 0, ptr);
  const json& points = array_at(fit, "points", ptr);
  for (std::size_t i = 0; i < points.size(); ++i) {
    const json& pt = points[i];
    if (!pt.is_array() || pt.size() != 2 || !pt[0].is_number() || !pt[1].is_number() || !(pt[0].get<double>() > 0) ||
        !(pt[1].get<double>() > 0))
      throw ValueError(ptr + "/points/" + std::to_string(i), "expected [bytes, seconds], both positive");
    c.points.emplace_back(pt[0].get<double>(), pt[1].get<double>());
  }
  std::sort(c.points.begin(), c.points.end());
  p.collectives[name] = std::move(c);
}
}  // namespace

std::string_view elementwise_class(std::string_view name) {
  if (name == "attn_norm" || name == "mlp_norm" || name == "final_norm") return "rmsnorm";
  if (name == "attn_norm_bwd" || name == "mlp_norm_bwd" || name == "final_norm_bwd") return "rmsnorm_bwd";
  return name;
}

double collective_seconds(const CollectiveFit& f, double bytes) {
  const auto& pts = f.points;
  if (pts.size() >= 2 && bytes >= pts.front().first && bytes <= pts.back().first) {
    auto hi = std::lower_bound(pts.begin(), pts.end(), bytes, [](const auto& p, double b) { return p.first < b; });
    if (hi == pts.begin()) return hi->second;
    const auto lo = hi - 1;
    const double t = std::log(bytes / lo->first) / std::log(hi->first / lo->first);
    return std::exp(std::log(lo->second) + t * std::log(hi->second / lo->second));
  }
  return f.alpha_s + bytes / f.bandwidth;
}

bool collective_extrapolated(const CollectiveFit& f, double bytes) {
  return f.max_bytes <= 0 || bytes < f.min_bytes / 2 || bytes > f.max_bytes * 2;
}

const CollectiveFit* find_collective_fit(const CollectiveFits& fits, std::string_view op, int ranks, int nodes) {
  const std::string name = std::string(op) + (nodes > 1 ? "/inter_node" : "/intra_node");
  auto matches = [&](const CollectiveFit& f) {
    return (f.ranks <= 0 || f.ranks == ranks) && (nodes <= 1 || f.nodes <= 0 || f.nodes == nodes);
  };
  for (const std::string& key : {name + "/" + std::to_string(ranks), name})
    if (const auto it = fits.find(key); it != fits.end() && matches(it->second)) return &it->second;
  return nullptr;
}

void use_measured_collectives(ClusterSpec& cluster, const CalibrationProfile& profile) {
  if (!profile.collectives.empty()) cluster.measured_collectives = std::make_shared<const CollectiveFits>(profile.collectives);
}

CalibrationProfile calibration_profile_from_json(const json& doc) {
  if (!doc.is_object() || member(doc, "format") != "herd-calibration")
    throw ValueError("/format", "not a herd calibration profile (expected \"format\": \"herd-calibration\")");
  const json& version = member(doc, "version");
  if (!version.is_number_integer() || version.get<int>() < 1 || version.get<int>() > kCalibrationProfileVersion)
    throw ValueError("/version", "unsupported profile version " + show_value(version) + " (this herd reads 1 to " +
                                     std::to_string(kCalibrationProfileVersion) + ")");
  CalibrationProfile p;
  // Version 1 called the device section "gpu" and had no peaks (efficiencies were fractions of the preset's).
  if (version.get<int>() == 1) read_device(member(doc, "gpu"), "/gpu", p);
  else read_device(member(doc, "device"), "/device", p);
  const json& compute = member(doc, "compute");
  expect_object(compute, "/compute");
  if (!member(compute, "gemm").is_null()) read_gemm(compute["gemm"], p);
  if (!member(compute, "attention").is_null()) read_attention(compute["attention"], p);
  if (!member(compute, "hbm").is_null()) read_optional(compute["hbm"], "efficiency", p.hbm_efficiency, "/compute/hbm");
  read_optional(compute, "kernel_overhead_s", p.kernel_overhead_s, "/compute", true);
  read_optional(compute, "sustained_fraction", p.sustained_fraction, "/compute");
  if (p.sustained_fraction && *p.sustained_fraction > 1)
    throw ValueError("/compute/sustained_fraction", "expected a fraction of at most 1, got " + std::to_string(*p.sustained_fraction));
  const json& elementwise = member(compute, "elementwise");
  expect_object(elementwise, "/compute/elementwise");
  if (elementwise.is_object())
    for (const auto& [name, e] : elementwise.items()) {
      const std::string ptr = "/compute/elementwise/" + name;
      expect_object(e, ptr);
      p.elementwise[name] = {positive(e, "efficiency", ptr), number_or(e, "min_bytes", 0, ptr),
                             number_or(e, "max_bytes", 0, ptr), number_or(e, "rms_log_residual", 0, ptr)};
    }
  const json& collectives = member(doc, "collectives");
  expect_object(collectives, "/collectives");
  if (collectives.is_object())
    for (const auto& [name, fit] : collectives.items()) read_collective(name, fit, p);
  const json& network = member(doc, "network");
  expect_object(network, "/network");
  if (network.is_object()) {
    read_optional(network, "nic_efficiency", p.nic_efficiency, "/network");
    if (p.nic_efficiency && *p.nic_efficiency > 1)
      throw ValueError("/network/nic_efficiency", "expected a fraction of at most 1, got " + std::to_string(*p.nic_efficiency));
  }
  const json& report = member(doc, "report");
  expect_object(report, "/report");
  if (report.is_object()) p.report = report;
  return p;
}

CalibrationProfile load_calibration_profile(const std::filesystem::path& file) {
  CalibrationProfile p = parse_json_file(file, "calibration profile", calibration_profile_from_json);
  p.source = source_name(file);
  return p;
}

json to_json(const CalibrationProfile& p) {
  json doc{{"format", "herd-calibration"}, {"version", kCalibrationProfileVersion}};
  json device = p.measured_on.is_object() ? p.measured_on : json::object();
  if (!p.gpu_name.empty()) device["name"] = p.gpu_name;
  if (!p.backend.empty()) device["backend"] = p.backend;
  write_optional(device, "peak_flops", p.peak_flops);
  write_optional(device, "memory_bandwidth", p.memory_bandwidth);
  write_optional(device, "parallel_units", p.parallel_units);
  doc["device"] = device;
  json gemm = json::object();
  write_optional(gemm, "efficiency", p.gemm_efficiency);
  write_optional(gemm, "tile_m", p.gemm_tile_m);
  write_optional(gemm, "tile_n", p.gemm_tile_n);
  write_optional(gemm, "k_half", p.gemm_k_half);
  gemm["points"] = json::array();
  for (const auto& g : p.gemm_points)
    gemm["points"].push_back({{"m", g.m}, {"n", g.n}, {"k", g.k}, {"efficiency", g.efficiency}, {"residual", g.residual}});
  json attention = json::object();
  write_optional(attention, "fwd_efficiency", p.attention_fwd_efficiency);
  write_optional(attention, "bwd_efficiency", p.attention_bwd_efficiency);
  write_optional(attention, "seq_half", p.attention_seq_half);
  if (!p.attention_impl.empty()) attention["impl"] = p.attention_impl;
  attention["points"] = json::array();
  for (const auto& a : p.attention_points)
    attention["points"].push_back({{"seq_kv", a.seq_kv}, {"heads_q", a.heads_q}, {"backward", a.backward},
                                   {"efficiency", a.efficiency}, {"residual", a.residual}});
  json compute{{"gemm", gemm}, {"attention", attention}};
  if (p.hbm_efficiency) compute["hbm"] = {{"efficiency", *p.hbm_efficiency}};
  write_optional(compute, "kernel_overhead_s", p.kernel_overhead_s);
  write_optional(compute, "sustained_fraction", p.sustained_fraction);
  json elementwise = json::object();
  for (const auto& [name, e] : p.elementwise)
    elementwise[name] = {{"efficiency", e.efficiency}, {"min_bytes", e.min_bytes}, {"max_bytes", e.max_bytes},
                         {"rms_log_residual", e.rms_log_residual}};
  compute["elementwise"] = elementwise;
  doc["compute"] = compute;
  json collectives = json::object();
  for (const auto& [name, f] : p.collectives) {
    json points = json::array();
    for (const auto& [bytes, seconds] : f.points) points.push_back({bytes, seconds});
    collectives[name] = {{"alpha_s", f.alpha_s}, {"bandwidth", f.bandwidth}, {"min_bytes", f.min_bytes},
                         {"max_bytes", f.max_bytes}, {"ranks", f.ranks}, {"nodes", f.nodes},
                         {"rms_log_residual", f.rms_log_residual}, {"points", points}};
  }
  doc["collectives"] = collectives;
  if (p.nic_efficiency) doc["network"] = {{"nic_efficiency", *p.nic_efficiency}};
  if (!p.report.empty()) doc["report"] = p.report;
  return doc;
}

std::optional<CalibrationProfile> profile_for(const Scenario& scenario, const std::string& cli_override) {
  if (!cli_override.empty()) return load_calibration_profile(cli_override);
  if (scenario.calibration.empty()) return std::nullopt;
  std::filesystem::path file = scenario.calibration;
  const std::string origin = scenario.source_of("/calibration");
  if (file.is_relative() && origin.rfind("--set", 0) != 0) file = scenario.base_dir / file;
  std::error_code ec;  // a name too long for the file system is "cannot read", not an exception
  if (!std::filesystem::is_regular_file(file, ec))
    scenario.fail("/calibration", "cannot read the calibration profile " + file.string());
  return load_calibration_profile(file);
}

namespace {
// Product names in device strings: "H100", "A100", "H200", "B200", "L40S" (not "80GB", "SXM5", "HBM3").
std::set<std::string> model_tokens(const std::string& name) {
  std::set<std::string> out;
  std::string token;
  auto flush = [&] {
    std::size_t letters = 0;
    while (letters < token.size() && std::isalpha(static_cast<unsigned char>(token[letters]))) ++letters;
    std::size_t digits = letters;
    while (digits < token.size() && std::isdigit(static_cast<unsigned char>(token[digits]))) ++digits;
    if (letters >= 1 && letters <= 2 && digits - letters >= 2 && token.size() - digits <= 1) out.insert(token);
    token.clear();
  };
  for (char c : name) {
    if (std::isalnum(static_cast<unsigned char>(c))) token += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    else flush();
  }
  flush();
  return out;
}
}  // namespace

std::string profile_mismatch(const CalibrationProfile& profile, const GpuSpec& gpu) {
  if (profile.gpu_name == gpu.name) return "";
  const std::string where = profile.source.empty() ? "the calibration profile" : profile.source;
  if (profile.backend == "cpu")
    return where + " was measured on a CPU (" + profile.gpu_name + "), not on " + gpu.name +
           ": predictions keep that CPU's measured throughput";
  const auto measured = model_tokens(profile.gpu_name);
  const auto preset = model_tokens(gpu.name);
  if (measured.empty() || preset.empty()) return "";
  for (const auto& t : measured)
    if (preset.count(t)) return "";
  return where + " was measured on " + profile.gpu_name + ", not on " + gpu.name +
         ": predictions keep the measured device's throughput";
}

}  // namespace herd::model
