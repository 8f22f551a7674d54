#include "herd/calibrate/measurement.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "herd/model/error.hpp"
#include "herd/model/io.hpp"
#include "json_fields.hpp"

namespace herd::calibrate {

using nlohmann::json;
using namespace detail;

std::string_view to_string(RecordKind k) {
  switch (k) {
    case RecordKind::gemm: return "gemm";
    case RecordKind::attention: return "attention";
    case RecordKind::elementwise: return "elementwise";
    case RecordKind::layer: return "layer";
    case RecordKind::collective: return "collective";
  }
  return "";
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  const std::size_t mid = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid), v.end());
  if (v.size() % 2 == 1) return v[mid];
  const double upper = v[mid];
  return (*std::max_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid)) + upper) / 2;
}

void Record::set_times(std::vector<double> times) {
  times_s = std::move(times);
  median_s = median(times_s);
}

void Record::mark_sustained(double seconds) {
  sustained_s = seconds;
  if (times_s.size() >= 2) median_s = median(std::vector<double>(times_s.begin() + std::ptrdiff_t(times_s.size() / 2), times_s.end()));
}

double sustained_ratio(const Record& r) {
  const std::size_t n = r.times_s.size();
  if (r.sustained_s <= 0 || n < 20) return 1.0;
  const std::size_t first = std::max<std::size_t>(3, n / 20);
  const double early = median(std::vector<double>(r.times_s.begin(), r.times_s.begin() + std::ptrdiff_t(first)));
  const double settled = median(std::vector<double>(r.times_s.begin() + std::ptrdiff_t(n / 2), r.times_s.end()));
  return settled > 0 ? early / settled : 1.0;
}

namespace {

json layer_json(const LayerDims& d) {
  return {{"batch", d.batch}, {"seq", d.seq},         {"hidden", d.hidden}, {"heads_q", d.heads_q},
          {"heads_kv", d.heads_kv}, {"head_dim", d.head_dim}, {"ffn", d.ffn}};
}

LayerDims layer_from(const json& j, const std::string& ptr) {
  LayerDims d;
  d.batch = count(j, "batch", ptr);
  d.seq = count(j, "seq", ptr);
  d.hidden = count(j, "hidden", ptr);
  d.heads_q = static_cast<int>(count(j, "heads_q", ptr));
  d.heads_kv = static_cast<int>(count(j, "heads_kv", ptr));
  d.head_dim = count(j, "head_dim", ptr);
  d.ffn = count(j, "ffn", ptr);
  validate(d, ptr);
  return d;
}

json shape_json(const Record& r) {
  switch (r.kind) {
    case RecordKind::gemm: {
      json g{{"m", r.gemm.m}, {"n", r.gemm.n}, {"k", r.gemm.k}};
      if (r.gemm.batch > 1) g["batch"] = r.gemm.batch;
      return g;
    }
    case RecordKind::attention: {
      const auto& a = r.attention;
      return {{"batch", a.batch},   {"heads_q", a.heads_q},   {"heads_kv", a.heads_kv}, {"seq_q", a.seq_q},
              {"seq_kv", a.seq_kv}, {"head_dim", a.head_dim}, {"pairs", a.pairs}};
    }
    case RecordKind::elementwise: return {{"rows", r.rows}, {"cols", r.cols}};
    case RecordKind::layer: return layer_json(r.layer);
    case RecordKind::collective: {
      const auto& c = r.collective;
      return {{"bytes", c.bytes}, {"ranks", c.ranks}, {"nodes", c.nodes}, {"in_place", c.in_place}};
    }
  }
  return json::object();
}

void read_shape(const json& s, const std::string& ptr, Record& r) {
  switch (r.kind) {
    case RecordKind::gemm:
      r.gemm = {count(s, "m", ptr), count(s, "n", ptr), count(s, "k", ptr),
                s.contains("batch") ? count(s, "batch", ptr) : 1};
      break;
    case RecordKind::attention: {
      auto& a = r.attention;
      a.batch = count(s, "batch", ptr);
      a.heads_q = static_cast<int>(count(s, "heads_q", ptr));
      a.heads_kv = static_cast<int>(count(s, "heads_kv", ptr));
      a.seq_q = count(s, "seq_q", ptr);
      a.seq_kv = count(s, "seq_kv", ptr);
      a.head_dim = count(s, "head_dim", ptr);
      a.pairs = number_or(s, "pairs", model::causal_pairs(a.seq_kv, 1), ptr);
      break;
    }
    case RecordKind::elementwise:
      r.rows = count(s, "rows", ptr);
      r.cols = count(s, "cols", ptr);
      break;
    case RecordKind::layer: r.layer = layer_from(s, ptr); break;
    case RecordKind::collective:
      r.collective.bytes = positive(s, "bytes", ptr);
      r.collective.ranks = static_cast<int>(count(s, "ranks", ptr));
      r.collective.nodes = static_cast<int>(number_or(s, "nodes", 1, ptr));
      r.collective.in_place = flag_or(s, "in_place", false, ptr);
      break;
  }
}

RecordKind kind_from(const json& rec, const std::string& ptr) {
  const std::string k = text_or(rec, "kind", ptr);
  for (RecordKind c : {RecordKind::gemm, RecordKind::attention, RecordKind::elementwise, RecordKind::layer,
                       RecordKind::collective})
    if (k == to_string(c)) return c;
  throw model::ValueError(ptr + "/kind", "expected gemm, attention, elementwise, layer or collective, got \"" + k + "\"");
}

Record record_from(const json& rec, const std::string& ptr) {
  if (!rec.is_object()) throw model::ValueError(ptr, "expected an object");
  Record r;
  r.kind = kind_from(rec, ptr);
  r.op = text_or(rec, "op", ptr);
  if (r.op.empty()) throw model::ValueError(ptr + "/op", "missing");
  r.pass = text_or(rec, "pass", ptr);
  r.dtype = text_or(rec, "dtype", ptr);
  r.impl = text_or(rec, "impl", ptr);
  read_shape(field(rec, "shape", ptr), ptr + "/shape", r);
  if (rec.contains("layer") && r.kind != RecordKind::layer) r.layer = layer_from(rec["layer"], ptr + "/layer");
  r.flops = number_or(rec, "flops", 0, ptr);
  r.bytes = number_or(rec, "bytes", 0, ptr);
  std::vector<double> times;
  if (rec.contains("times_s")) {
    const json& t = rec["times_s"];
    if (!t.is_array()) throw model::ValueError(ptr + "/times_s", "expected an array of seconds");
    for (std::size_t i = 0; i < t.size(); ++i) {
      if (!t[i].is_number() || !(t[i].get<double>() > 0))
        throw model::ValueError(ptr + "/times_s/" + std::to_string(i), "expected a positive number of seconds");
      times.push_back(t[i].get<double>());
    }
  }
  r.set_times(std::move(times));
  // An imported record may carry only its median (nccl-tests prints one time per size).
  if (rec.contains("median_s") || r.times_s.empty()) r.median_s = positive(rec, "median_s", ptr);
  if (rec.contains("sustained_s")) {
    if (r.kind != RecordKind::layer) throw model::ValueError(ptr + "/sustained_s", "only whole-layer records are sustained runs");
    r.sustained_s = positive(rec, "sustained_s", ptr);
  }
  return r;
}

}  // namespace

json to_json(const MeasurementSet& set) {
  const DeviceInfo& d = set.device;
  json device = d.details.is_object() ? d.details : json::object();
  device["backend"] = d.backend;
  device["name"] = d.name;
  device["peak_flops"] = d.peak_flops;
  device["peak_source"] = d.peak_source;
  device["memory_bandwidth"] = d.memory_bandwidth;
  device["bandwidth_source"] = d.bandwidth_source;
  device["parallel_units"] = d.parallel_units;
  device["devices"] = d.devices;
  json records = json::array();
  for (const Record& r : set.records) {
    json rec{{"kind", to_string(r.kind)}, {"op", r.op}, {"shape", shape_json(r)}, {"median_s", r.median_s},
             {"times_s", r.times_s}};
    if (!r.pass.empty()) rec["pass"] = r.pass;
    if (!r.dtype.empty()) rec["dtype"] = r.dtype;
    if (!r.impl.empty()) rec["impl"] = r.impl;
    if (r.flops > 0) rec["flops"] = r.flops;
    if (r.bytes > 0) rec["bytes"] = r.bytes;
    if (r.sustained_s > 0) rec["sustained_s"] = r.sustained_s;
    if (r.kind != RecordKind::layer && r.layer.seq > 0) rec["layer"] = layer_json(r.layer);
    records.push_back(std::move(rec));
  }
  json doc{{"format", "herd-measurements"}, {"version", kMeasurementsVersion}, {"device", device},
           {"notes", set.notes},            {"records", records}};
  for (const SkippedOp& s : set.skipped)
    doc["skipped"].push_back({{"op", s.op}, {"reason", s.reason}, {"calls", s.calls}, {"kernel_s", s.kernel_s}});
  return doc;
}

std::string fitted_dtype(const DeviceInfo& device) { return device.backend == "cpu" ? "fp32" : "bf16"; }

MeasurementSet measurements_from_json(const json& doc) {
  if (!doc.is_object() || !doc.contains("format") || doc["format"] != "herd-measurements")
    throw model::ValueError("/format", "not a herd measurement file (expected \"format\": \"herd-measurements\")");
  if (!doc.contains("version") || doc["version"] != kMeasurementsVersion)
    throw model::ValueError("/version", "unsupported measurement file version " + model::show_value(doc.value("version", json())));
  MeasurementSet set;
  const json& dev = field(doc, "device", "");
  if (!dev.is_object()) throw model::ValueError("/device", "expected an object");
  DeviceInfo& d = set.device;
  d.backend = text_or(dev, "backend", "/device");
  d.name = text_or(dev, "name", "/device");
  d.peak_flops = number_or(dev, "peak_flops", 0, "/device");
  d.peak_source = text_or(dev, "peak_source", "/device");
  d.memory_bandwidth = number_or(dev, "memory_bandwidth", 0, "/device");
  d.bandwidth_source = text_or(dev, "bandwidth_source", "/device");
  d.parallel_units = static_cast<int>(number_or(dev, "parallel_units", 0, "/device"));
  d.devices = static_cast<int>(number_or(dev, "devices", 1, "/device"));
  d.details = dev;
  for (const char* key : {"backend", "name", "peak_flops", "peak_source", "memory_bandwidth", "bandwidth_source",
                          "parallel_units", "devices"})
    d.details.erase(key);
  if (doc.contains("notes")) {
    if (!doc["notes"].is_array()) throw model::ValueError("/notes", "expected an array of strings");
    for (std::size_t i = 0; i < doc["notes"].size(); ++i) {
      if (!doc["notes"][i].is_string()) throw model::ValueError("/notes/" + std::to_string(i), "expected a string");
      set.notes.push_back(doc["notes"][i].get<std::string>());
    }
  }
  if (doc.contains("skipped")) {
    if (!doc["skipped"].is_array()) throw model::ValueError("/skipped", "expected an array");
    for (std::size_t i = 0; i < doc["skipped"].size(); ++i) {
      const std::string ptr = "/skipped/" + std::to_string(i);
      const json& s = doc["skipped"][i];
      if (!s.is_object()) throw model::ValueError(ptr, "expected an object");
      set.skipped.push_back({text_or(s, "op", ptr), text_or(s, "reason", ptr),
                             static_cast<int>(number_or(s, "calls", 0, ptr)), number_or(s, "kernel_s", 0, ptr)});
    }
  }
  const json& records = field(doc, "records", "");
  if (!records.is_array()) throw model::ValueError("/records", "expected an array");
  for (std::size_t i = 0; i < records.size(); ++i)
    set.records.push_back(record_from(records[i], "/records/" + std::to_string(i)));
  return set;
}

MeasurementSet load_measurements(const std::filesystem::path& file) {
  MeasurementSet set = model::parse_json_file(file, "measurement file", measurements_from_json);
  set.source = model::source_name(file);
  return set;
}

void save_measurements(const MeasurementSet& set, const std::filesystem::path& file) {
  model::write_file_atomically(file, to_json(set).dump(1) + "\n");
}

}  // namespace herd::calibrate
