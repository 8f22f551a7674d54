// PyTorch profiler (Kineto) traces. A GPU kernel event carries the "External id" of the CPU op
// that launched it; with record_shapes=True that op carries its "Input Dims", "Input type" and
// (PyTorch 2.1+) "Concrete Inputs" of scalar arguments. Kernels of one op call are summed (flash
// attention's backward launches several), and calls with the same shape and dtype become one record
// whose times are those calls. Every kernel not made a record is tallied by its op and the reason.
#include <algorithm>
#include <cctype>
#include <fstream>
#include <map>
#include <optional>
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

// The profiler's "Input type" of argument i: c10::ScalarType names as PyTorch prints them
// (c10/core/ScalarType.h: "float", "c10::BFloat16", "c10::Half", "c10::Float8_e4m3fn", ...), or ""
// when the trace has none.
std::string input_type(const json& args, std::size_t i) {
  const json types = args.value("Input type", json());
  if (!types.is_array() || i >= types.size() || !types[i].is_string()) return "";
  return types[i].get<std::string>();
}

// Herd's short dtype names. Transformer Engine 1.x keeps FP8 data in torch.uint8 tensors
// (Float8Tensor._data), so its GEMM ops show "unsigned char" operands.
std::string dtype_of(const std::string& type, bool transformer_engine) {
  if (type.empty()) return "";
  if (type == "c10::BFloat16" || type == "BFloat16") return "bf16";
  if (type == "c10::Half" || type == "Half") return "fp16";
  if (type == "float") return "fp32";
  if (type == "double") return "fp64";
  if (type.rfind("c10::Float8_e4m3", 0) == 0) return "fp8_e4m3";
  if (type.rfind("c10::Float8_e5m2", 0) == 0) return "fp8_e5m2";
  if (transformer_engine && type == "unsigned char") return "fp8";
  return type;
}

double element_bytes(const std::string& dtype) {
  if (dtype == "fp32") return 4;
  if (dtype == "fp64") return 8;
  if (dtype.rfind("fp8", 0) == 0) return 1;
  return 2;
}

// Argument positions of a GEMM op's operands and, for Transformer Engine's column-major calls, of
// its transpose flags (-1: none).
struct GemmArgs {
  std::size_t a = 0, b = 1;
  int trans_a = -1, trans_b = -1;
  bool batched = false;
  bool transformer_engine = false;
};

// The GEMM ops the importer knows, by name: aten's (native_functions.yaml signatures) and
// Transformer Engine's (te_gemm_ts in TE 1.x pytorch/csrc/ts_fp8_op.cpp: A, A_scale_inverse,
// A_fp8_tensor, A_type, transa, B, ..., transb at 9; te_gemm in TE 1.x pytorch/csrc/extensions:
// A, A_scale_inverse, A_type, transa, B, ..., transb at 7; generic_gemm in TE 2.x
// pytorch/csrc/extensions/pybind.cpp: A, transA, B, transB, D, ...).
std::optional<GemmArgs> gemm_args(const std::string& op) {
  const std::string base = op.substr(op.rfind("::") == std::string::npos ? 0 : op.rfind("::") + 2);
  if (op == "aten::mm" || op == "aten::_scaled_mm") return GemmArgs{0, 1};
  if (op == "aten::addmm" || op == "aten::_addmm_activation") return GemmArgs{1, 2};
  if (op == "aten::bmm") return GemmArgs{0, 1, -1, -1, true};
  if (op == "aten::baddbmm") return GemmArgs{1, 2, -1, -1, true};
  if (base == "te_gemm_ts") return GemmArgs{0, 5, 4, 9, false, true};
  if (base == "te_gemm") return GemmArgs{0, 4, 3, 7, false, true};
  if (base == "generic_gemm") return GemmArgs{0, 2, 1, 3, false, true};
  return std::nullopt;
}

// A transpose flag from "Concrete Inputs" ("1"/"0" for TE 1.x's int64 flags, "True"/"False" for bools).
std::optional<bool> flag_at(const json& args, int i) {
  const json values = args.value("Concrete Inputs", json());
  if (i < 0 || !values.is_array() || std::size_t(i) >= values.size() || !values[std::size_t(i)].is_string()) return std::nullopt;
  const std::string v = lower(values[std::size_t(i)].get<std::string>());
  if (v == "1" || v == "true") return true;
  if (v == "0" || v == "false") return false;
  return std::nullopt;
}

// The GEMM C[m,n] = A[m,k] B[k,n] (x batch) of a GEMM op call, or why it cannot be read.
std::string read_gemm(const GemmArgs& ga, const json& args, model::GemmShape& g) {
  const json dims = args.value("Input Dims", json());
  const auto a = dims_at(dims, ga.a), b = dims_at(dims, ga.b);
  const std::size_t rank = ga.batched ? 3 : 2;
  if (a.size() != rank || b.size() != rank) return "no usable Input Dims (profile with record_shapes=True)";
  if (ga.trans_a >= 0) {
    // Transformer Engine calls cuBLAS column-major; read row-major, D[m,n] = op(B)[m,k] op(A)[k,n]
    // with op(X) = X^T when its flag is set (TE's Linear forward: A = weight [out, in], transa; B =
    // input [tokens, in]: D = input weight^T).
    const auto ta = flag_at(args, ga.trans_a), tb = flag_at(args, ga.trans_b);
    if (!ta || !tb) return "transpose flags not recorded (Concrete Inputs)";
    const std::int64_t ka = *ta ? a[1] : a[0], n = *ta ? a[0] : a[1];
    const std::int64_t m = *tb ? b[1] : b[0], kb = *tb ? b[0] : b[1];
    if (ka != kb) return "operand shapes do not chain";
    g = {m, n, ka, 1};
    return "";
  }
  const std::size_t o = ga.batched ? 1 : 0;
  if (a[o + 1] != b[o] || (ga.batched && a[0] != b[0])) return "operand shapes do not chain";
  g = {a[o], b[o + 1], a[o + 1], ga.batched ? a[0] : 1};
  return "";
}

// Attention shape of a scaled-dot-product or flash-attn op; assumed causal (decoder training).
// `q_index` is the argument holding the queries.
bool attention_op(const std::string& op, bool& backward, std::size_t& q_index) {
  const std::string name = lower(op);
  const bool sdpa = name.find("scaled_dot_product") != std::string::npos;
  const bool flash_attn = name.rfind("flash_attn::", 0) == 0;
  if (!sdpa && !flash_attn) return false;
  backward = name.find("backward") != std::string::npos || name.find("bwd") != std::string::npos;
  // The SDPA backward's first input is the output gradient, shaped like q.
  q_index = backward && sdpa ? 1 : 0;
  return true;
}

bool attention_shape(const std::string& op, const json& dims, std::size_t q_index, model::AttentionShape& a) {
  const bool sdpa = lower(op).find("scaled_dot_product") != std::string::npos;
  const auto q = dims_at(dims, q_index), k = dims_at(dims, q_index + 1);
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

// Why the kernels of an op that is neither a GEMM nor attention were not imported.
std::string other_reason(const std::string& op) {
  // Transformer Engine 2.x modules call their GEMMs through pybind (tex.generic_gemm), which the
  // profiler does not record as an op: the GEMM kernels hang under the module's autograd function.
  static const char* const kTeModules[] = {"_Linear", "_LayerNormLinear", "_LayerNormMLP", "_GroupedLinear"};
  for (const char* m : kTeModules)
    if (op == m || op == std::string(m) + "Backward")
      return "Transformer Engine module: its GEMM kernels launch without a GEMM op, so no shapes";
  const std::string name = lower(op);
  if (name.rfind("nccl", 0) == 0 || name.find("record_param_comms") != std::string::npos || name.rfind("c10d::", 0) == 0)
    return "collective: import nccl-tests output for collectives";
  return "not a GEMM or attention op";
}

struct SkipTally {
  int calls = 0;
  double kernel_s = 0;
};

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
  std::map<std::pair<std::string, std::string>, SkipTally> skipped;  // by (op, reason)
  int untyped = 0;
  auto skip = [&](const std::string& op, const std::string& reason, double us) {
    SkipTally& t = skipped[{op, reason}];
    ++t.calls;
    t.kernel_s += us * 1e-6;
  };
  for (const auto& [id, us] : kernel_us) {
    const auto op_it = cpu_op.find(id);
    if (op_it == cpu_op.end()) {
      skip("(no CPU op)", "kernel launched with no CPU op in the trace", us);
      continue;
    }
    const json& op = events[op_it->second];
    const std::string name = op.value("name", "");
    const json& args = op["args"];
    Record r;
    std::string key;
    std::string type;
    bool backward = false;
    std::size_t q_index = 0;
    if (const auto ga = gemm_args(name)) {
      model::GemmShape g;
      if (const std::string why = read_gemm(*ga, args, g); !why.empty()) {
        skip(name, "GEMM op: " + why, us);
        continue;
      }
      type = input_type(args, ga->a);
      r.dtype = dtype_of(type, ga->transformer_engine);
      r.kind = RecordKind::gemm;
      r.op = ga->batched ? "kineto_bmm" : "kineto_mm";
      r.pass = "forward";
      r.gemm = g;
      const double batch = double(g.batch);
      r.flops = 2.0 * double(g.m) * double(g.n) * double(g.k) * batch;
      // FP8 GEMMs (aten::_scaled_mm, TE) write BF16 (torchao's and TE's FP8 training recipes).
      const double in = element_bytes(r.dtype.empty() ? "bf16" : r.dtype);
      const double out = in < 2 ? 2 : in;
      r.bytes = (in * (double(g.m) * g.k + double(g.k) * g.n) + out * double(g.m) * g.n) * batch;
      key = "gemm " + std::to_string(g.m) + "x" + std::to_string(g.n) + "x" + std::to_string(g.k) +
            (g.batch > 1 ? "x" + std::to_string(g.batch) : "");
    } else if (attention_op(name, backward, q_index)) {
      if (!attention_shape(name, args.value("Input Dims", json()), q_index, r.attention)) {
        skip(name, "attention op: no usable Input Dims (profile with record_shapes=True)", us);
        continue;
      }
      type = input_type(args, q_index);
      r.dtype = dtype_of(type, false);
      const auto& a = r.attention;
      r.kind = RecordKind::attention;
      r.op = "attention";
      r.pass = backward ? "backward" : "forward";
      const double fwd = 4.0 * double(a.head_dim) * a.pairs * a.heads_q * double(a.batch);  // as model::layer_program
      r.flops = backward ? 2.5 * fwd : fwd;
      key = "attention " + r.pass + " " + std::to_string(a.batch) + " " + std::to_string(a.heads_q) + " " +
            std::to_string(a.heads_kv) + " " + std::to_string(a.seq_kv) + " " + std::to_string(a.head_dim);
    } else {
      skip(name, other_reason(name), us);
      continue;
    }
    if (r.dtype.empty()) {
      ++untyped;
      r.dtype = "bf16";
    }
    r.impl = name;
    key += " " + r.dtype + " " + name;
    auto [it, fresh] = records.try_emplace(key, r);
    it->second.times_s.push_back(us * 1e-6);
  }
  for (auto& [key, r] : records) {
    r.set_times(r.times_s);
    set.records.push_back(r);
  }
  for (const auto& [what, t] : skipped) set.skipped.push_back({what.first, what.second, t.calls, t.kernel_s});
  std::stable_sort(set.skipped.begin(), set.skipped.end(),
                   [](const SkippedOp& a, const SkippedOp& b) { return a.kernel_s > b.kernel_s; });
  set.notes.push_back("imported from a Kineto trace: GEMMs from aten::mm/addmm/bmm/baddbmm/_scaled_mm and Transformer "
                      "Engine's te_gemm_ts/te_gemm/generic_gemm, attention from scaled-dot-product and flash-attn ops "
                      "(taken as causal), each with the dtype of its \"Input type\"; the fit takes BF16 records only");
  if (untyped > 0)
    set.notes.push_back(std::to_string(untyped) + " GEMM or attention calls carry no \"Input type\": taken as BF16");
  const auto orphans = std::find_if(set.skipped.begin(), set.skipped.end(), [](const SkippedOp& s) { return s.op == "(no CPU op)"; });
  if (orphans != set.skipped.end())
    set.notes.push_back(std::to_string(orphans->calls) + " kernel launches had no CPU op in the trace");
  return set;
}

MeasurementSet import_kineto_file(const std::filesystem::path& file) {
  MeasurementSet set = model::parse_json_file(file, "trace", import_kineto_trace);
  set.source = model::source_name(file);
  return set;
}

}  // namespace herd::calibrate
