// PyTorch profiler (Kineto) traces. A GPU kernel event carries the "External id" of the CPU op
// that launched it; with record_shapes=True that op carries its "Input Dims". Kernels of one op
// call are summed (flash attention's backward launches several), and calls with the same shape
// become one record whose times are those calls.
#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>
#include <sstream>

#include "herd/calibrate/fit.hpp"
#include "herd/calibrate/import.hpp"
#include "herd/model/error.hpp"
#include "herd/model/io.hpp"
#include "herd/model/workload.hpp"
#include "json_fields.hpp"

namespace herd::calibrate {

namespace {

using nlohmann::json;

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::vector<std::int64_t> dims_at(const json& input_dims, std::size_t i) {
  std::vector<std::int64_t> out;
  if (!input_dims.is_array() || i >= input_dims.size() || !input_dims[i].is_array()) return out;
  for (const auto& v : input_dims[i])
    if (v.is_number_integer()) out.push_back(v.get<std::int64_t>());
  return out;
}

// GEMM (m, n, k) of a CPU op from its input shapes; false when it is not a 2-D product we know.
bool gemm_shape(const std::string& op, const json& dims, model::GemmShape& g) {
  std::vector<std::int64_t> a, b;
  if (op == "aten::mm") a = dims_at(dims, 0), b = dims_at(dims, 1);
  else if (op == "aten::addmm" || op == "aten::_addmm_activation") a = dims_at(dims, 1), b = dims_at(dims, 2);
  else return false;
  if (a.size() != 2 || b.size() != 2 || a[1] != b[0]) return false;
  g = {a[0], b[1], a[1]};
  return true;
}

// Attention shape of a scaled-dot-product or flash-attn op; assumed causal (decoder training).
bool attention_shape(const std::string& op, const json& dims, model::AttentionShape& a, bool& backward) {
  const std::string name = lower(op);
  const bool sdpa = name.find("scaled_dot_product") != std::string::npos;
  const bool flash_attn = name.rfind("flash_attn::", 0) == 0;
  if (!sdpa && !flash_attn) return false;
  backward = name.find("backward") != std::string::npos || name.find("bwd") != std::string::npos;
  // The backward's first input is the output gradient, shaped like q.
  const auto q = dims_at(dims, backward && sdpa ? 1 : 0), k = dims_at(dims, backward && sdpa ? 2 : 1);
  if (q.size() != 4 || k.size() != 4) return false;
  // aten SDPA tensors are (batch, heads, seq, dim); flash_attn's are (batch, seq, heads, dim).
  const std::size_t h = sdpa ? 1 : 2, s = sdpa ? 2 : 1;
  a.batch = q[0];
  a.heads_q = static_cast<int>(q[h]);
  a.heads_kv = static_cast<int>(k[h]);
  a.seq_q = q[s];
  a.seq_kv = k[s];
  a.head_dim = q[3];
  a.pairs = model::causal_pairs(a.seq_kv, 1);
  return a.batch > 0 && a.heads_q > 0 && a.heads_kv > 0 && a.seq_kv > 0 && a.head_dim > 0;
}

}  // namespace

MeasurementSet import_kineto_trace(const json& trace) {
  if (!trace.is_object() || !trace.contains("traceEvents") || !trace["traceEvents"].is_array())
    throw model::ValueError("/traceEvents", "not a Chrome trace (expected a traceEvents array)");
  MeasurementSet set;
  DeviceInfo& d = set.device;
  d.backend = "kineto";
  if (trace.contains("deviceProperties") && trace["deviceProperties"].is_array() && !trace["deviceProperties"].empty()) {
    const json& props = trace["deviceProperties"][0];
    d.name = detail::text_or(props, "name", "/deviceProperties/0");
    d.parallel_units = static_cast<int>(detail::number_or(props, "numSms", 0, "/deviceProperties/0"));
    d.details = props;
  }
  if (const auto gpu = matching_gpu_preset(d.name)) {
    d.peak_flops = gpu->peak_bf16_flops;
    d.peak_source = "GPU preset " + gpu->name + ": " + gpu->source;
    d.memory_bandwidth = gpu->hbm_bandwidth;
    d.bandwidth_source = d.peak_source;
    if (d.parallel_units == 0) d.parallel_units = gpu->sms;
  }
  // CPU ops by External id, then kernel time summed per External id.
  const json& events = trace["traceEvents"];
  std::map<std::int64_t, std::size_t> cpu_op;
  std::map<std::int64_t, double> kernel_us;
  for (std::size_t i = 0; i < events.size(); ++i) {
    const json& e = events[i];
    if (!e.is_object() || !e.contains("args") || !e["args"].is_object() || !e["args"].contains("External id")) continue;
    const json& id = e["args"]["External id"];
    if (!id.is_number_integer()) continue;
    const std::string cat = lower(e.value("cat", ""));
    if (cat == "cpu_op" || cat == "operator") cpu_op.emplace(id.get<std::int64_t>(), i);
    if (cat == "kernel" && e.contains("dur") && e["dur"].is_number())
      kernel_us[id.get<std::int64_t>()] += e["dur"].get<double>();
  }
  std::map<std::string, Record> records;  // by shape text, in a stable order
  int unmatched = 0;
  for (const auto& [id, us] : kernel_us) {
    const auto op_it = cpu_op.find(id);
    if (op_it == cpu_op.end()) {
      ++unmatched;
      continue;
    }
    const json& op = events[op_it->second];
    const std::string name = op.value("name", "");
    const json dims = op["args"].value("Input Dims", json());
    Record r;
    model::GemmShape g;
    bool backward = false;
    std::string key;
    if (gemm_shape(name, dims, g)) {
      r.kind = RecordKind::gemm;
      r.op = "kineto_mm";
      r.pass = "forward";
      r.gemm = g;
      r.flops = 2.0 * double(g.m) * double(g.n) * double(g.k);
      r.bytes = 2.0 * (double(g.m) * g.k + double(g.k) * g.n + double(g.m) * g.n);
      key = "gemm " + std::to_string(g.m) + "x" + std::to_string(g.n) + "x" + std::to_string(g.k);
    } else if (attention_shape(name, dims, r.attention, backward)) {
      const auto& a = r.attention;
      r.kind = RecordKind::attention;
      r.op = "attention";
      r.pass = backward ? "backward" : "forward";
      const double fwd = 4.0 * double(a.head_dim) * a.pairs * a.heads_q * double(a.batch);  // as model::layer_program
      r.flops = backward ? 2.5 * fwd : fwd;
      key = "attention " + r.pass + " " + std::to_string(a.batch) + " " + std::to_string(a.heads_q) + " " +
            std::to_string(a.heads_kv) + " " + std::to_string(a.seq_kv) + " " + std::to_string(a.head_dim);
    } else {
      continue;
    }
    r.dtype = "bf16";
    r.impl = name;
    auto [it, fresh] = records.try_emplace(key, r);
    it->second.times_s.push_back(us * 1e-6);
  }
  for (auto& [key, r] : records) {
    r.set_times(r.times_s);
    set.records.push_back(r);
  }
  set.notes.push_back("imported from a Kineto trace: GEMMs from aten::mm/addmm, attention from scaled-dot-product and "
                      "flash-attn ops (taken as causal); element-wise kernels are not matched");
  if (unmatched > 0) set.notes.push_back(std::to_string(unmatched) + " kernel launches had no CPU op in the trace");
  return set;
}

MeasurementSet import_kineto_file(const std::filesystem::path& file) {
  MeasurementSet set = model::parse_json_file(file, "trace", import_kineto_trace);
  set.source = file.string();
  return set;
}

}  // namespace herd::calibrate
