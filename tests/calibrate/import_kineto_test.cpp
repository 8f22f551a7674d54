// A Kineto trace as torch.profiler writes it (record_shapes=True): kernels matched to their CPU op
// by External id, several kernels of one call summed, repeated calls of one shape gathered.
#include <catch2/catch.hpp>

#include <algorithm>

#include "herd/calibrate/fit.hpp"
#include "herd/calibrate/import.hpp"
#include "herd/model/error.hpp"

using namespace herd;
using namespace herd::calibrate;
using nlohmann::json;

namespace {
json cpu_op(const char* name, int id, json dims) {
  return {{"ph", "X"}, {"cat", "cpu_op"}, {"name", name}, {"ts", 0}, {"dur", 10}, {"args", {{"External id", id}, {"Input Dims", dims}}}};
}
json kernel(const char* name, int id, double us) {
  return {{"ph", "X"}, {"cat", "kernel"}, {"name", name}, {"ts", 0}, {"dur", us}, {"args", {{"External id", id}, {"correlation", 1000 + id}}}};
}
}  // namespace

TEST_CASE("Kineto kernels become GEMM and attention records", "[calibrate][import]") {
  json trace{{"deviceProperties", json::array({{{"id", 0}, {"name", "NVIDIA H100 80GB HBM3"}, {"numSms", 132}}})},
             {"traceEvents", json::array()}};
  auto& ev = trace["traceEvents"];
  for (int call = 0; call < 3; ++call) {  // the same 8192 x 2304 x 16384 product three times
    ev.push_back(cpu_op("aten::mm", 10 + call, {{8192, 16384}, {16384, 2304}}));
    ev.push_back(kernel("sm90_xmma_gemm_bf16bf16", 10 + call, 100.0 + call));
  }
  ev.push_back(cpu_op("aten::addmm", 20, {{2304}, {4096, 16384}, {16384, 2304}, {}, {}}));
  ev.push_back(kernel("sm90_xmma_gemm_bf16bf16", 20, 50));
  // SDPA backward: (grad_out, q, k, v, ...) in (batch, heads, seq, dim); three kernels summed.
  ev.push_back(cpu_op("aten::_scaled_dot_product_flash_attention_backward", 30,
                      {{1, 16, 8192, 128}, {1, 16, 8192, 128}, {1, 1, 8192, 128}, {1, 1, 8192, 128}}));
  for (double us : {10.0, 500.0, 20.0}) ev.push_back(kernel("flash_bwd", 30, us));
  ev.push_back(kernel("orphan", 99, 1));
  ev.push_back(cpu_op("aten::relu", 40, {{10}}));
  ev.push_back(kernel("relu_kernel", 40, 1));

  const MeasurementSet s = import_kineto_trace(trace);
  CHECK(s.device.name == "NVIDIA H100 80GB HBM3");
  CHECK(s.device.peak_flops == Approx(989e12));  // from the H100 preset
  CHECK(s.device.parallel_units == 132);
  REQUIRE(s.records.size() == 3);
  const Record& bwd = s.records[0];  // records sorted by key: attention, then the GEMMs
  CHECK(bwd.kind == RecordKind::attention);
  CHECK(bwd.pass == "backward");
  CHECK(bwd.attention.heads_q == 16);
  CHECK(bwd.attention.heads_kv == 1);
  CHECK(bwd.median_s == Approx(530e-6));
  // 2.5 x 4 d pairs heads, pairs = s(s+1)/2 (causal).
  CHECK(bwd.flops == Approx(2.5 * 4 * 128 * (8192.0 * 8193 / 2) * 16));
  const Record& addmm = s.records[1];
  CHECK(addmm.gemm.m == 4096);
  CHECK(addmm.gemm.n == 2304);
  CHECK(addmm.gemm.k == 16384);
  const Record& mm = s.records[2];
  CHECK(mm.gemm.m == 8192);
  CHECK(mm.times_s.size() == 3);
  CHECK(mm.median_s == Approx(101e-6));
  // The import's summary, calls without an "Input type" taken as BF16, and the orphan kernel.
  CHECK(s.notes.size() == 3);
  CHECK(bwd.dtype == "bf16");

  CHECK_THROWS_AS(import_kineto_trace(json::object()), model::ValueError);
}

namespace {
const Record& record_of(const MeasurementSet& s, const std::string& impl, const std::string& dtype) {
  for (const auto& r : s.records)
    if (r.impl == impl && r.dtype == dtype) return r;
  FAIL("no " << dtype << " record of " << impl);
  return s.records.front();
}
const SkippedOp& skipped_op(const std::vector<SkippedOp>& skipped, const std::string& op) {
  for (const auto& k : skipped)
    if (k.op == op) return k;
  FAIL("nothing of " << op << " skipped");
  return skipped.front();
}
MeasurementSet fixture() {
  return import_kineto_file(std::string(HERD_SOURCE_DIR) + "/tests/data/calibration/kineto-gemm-dtypes.json");
}
}  // namespace

// tests/data/calibration/kineto-gemm-dtypes.json: one H100 trace with BF16 and FP32 aten::mm, a
// BF16 aten::bmm, an FP8 aten::_scaled_mm, a Transformer Engine 1.x tex_ts::te_gemm_ts, flash-attn,
// and kernels under ops that carry no GEMM shape.
TEST_CASE("Kineto GEMMs of every kind become records with the trace's dtypes", "[calibrate][import]") {
  const MeasurementSet s = fixture();
  REQUIRE(s.records.size() == 6);

  // Two BF16 aten::mm calls of 8192 x 2304 x 16384: one record, median of 790 and 810 us.
  const Record& mm = record_of(s, "aten::mm", "bf16");
  CHECK(mm.gemm.m == 8192);
  CHECK(mm.gemm.n == 2304);
  CHECK(mm.gemm.k == 16384);
  CHECK(mm.times_s.size() == 2);
  CHECK(mm.median_s == Approx(800e-6));

  // "float" operands: an FP32 record, 4 bytes per element: 4 (mk + kn + mn) with m = n = k = 4096.
  const Record& fp32 = record_of(s, "aten::mm", "fp32");
  CHECK(fp32.gemm.m == 4096);
  CHECK(fp32.bytes == Approx(4.0 * 3 * 4096.0 * 4096));

  // bmm [32, 2048, 128] x [32, 128, 2048]: 32 products of 2048 x 2048 x 128, 2 m n k b FLOPs.
  const Record& bmm = record_of(s, "aten::bmm", "bf16");
  CHECK(bmm.op == "kineto_bmm");
  CHECK(bmm.gemm.m == 2048);
  CHECK(bmm.gemm.n == 2048);
  CHECK(bmm.gemm.k == 128);
  CHECK(bmm.gemm.batch == 32);
  CHECK(bmm.flops == Approx(2.0 * 2048 * 2048 * 128 * 32));
  CHECK(bmm.bytes == Approx(2.0 * (2048 * 128 + 128 * 2048 + 2048 * 2048) * 32));

  // _scaled_mm with c10::Float8_e4m3fn operands: recorded as FP8, 1-byte inputs, a BF16 output.
  const Record& fp8 = record_of(s, "aten::_scaled_mm", "fp8_e4m3");
  CHECK(fp8.gemm.m == 8192);
  CHECK(fp8.gemm.n == 4096);
  CHECK(fp8.gemm.k == 4096);
  CHECK(fp8.bytes == Approx(1.0 * (8192.0 * 4096 + 4096.0 * 4096) + 2.0 * 8192 * 4096));

  // te_gemm_ts: A = weight [2304, 16384] with transa 1, B = input [8192, 16384] with transb 0, so
  // D = B A^T is 8192 x 2304 over k = 16384 (TE's Linear forward).
  const Record& te = record_of(s, "tex_ts::te_gemm_ts", "bf16");
  CHECK(te.gemm.m == 8192);
  CHECK(te.gemm.n == 2304);
  CHECK(te.gemm.k == 16384);
  CHECK(te.median_s == Approx(800e-6));

  // flash_attn (batch, seq, heads, dim): 16 query heads, 2 K/V heads, 4096 keys.
  const Record& attn = record_of(s, "flash_attn::_flash_attn_forward", "bf16");
  CHECK(attn.attention.heads_q == 16);
  CHECK(attn.attention.heads_kv == 2);
  CHECK(attn.attention.seq_kv == 4096);
}

TEST_CASE("every kernel the Kineto import leaves out is listed by op, with counts and the reason", "[calibrate][import]") {
  const MeasurementSet s = fixture();
  REQUIRE(s.skipped.size() == 5);
  // Most kernel time first: the TE module's two GEMM kernels (780 + 820 us) lead.
  CHECK(s.skipped.front().op == "_LinearBackward");
  CHECK(s.skipped.front().calls == 1);
  CHECK(s.skipped.front().kernel_s == Approx(1600e-6));
  CHECK(s.skipped.front().reason == "Transformer Engine module: its GEMM kernels launch without a GEMM op, so no shapes");
  CHECK(skipped_op(s.skipped, "record_param_comms").reason == "collective: import nccl-tests output for collectives");
  CHECK(skipped_op(s.skipped, "aten::add_").reason == "not a GEMM or attention op");
  CHECK(skipped_op(s.skipped, "aten::mm").reason == "GEMM op: no usable Input Dims (profile with record_shapes=True)");
  CHECK(skipped_op(s.skipped, "(no CPU op)").kernel_s == Approx(3e-6));

  // The list survives the raw file.
  const MeasurementSet back = measurements_from_json(to_json(s));
  REQUIRE(back.skipped.size() == 5);
  CHECK(back.skipped[1].op == s.skipped[1].op);
  CHECK(back.skipped[1].calls == s.skipped[1].calls);
}

TEST_CASE("the fit takes BF16 GEMMs only and reports the others in the profile", "[calibrate][import][fit]") {
  const FitResult r = fit({fixture()});
  // Fitted: the BF16 mm, bmm, te_gemm_ts and the attention; left out: the FP32 mm and the FP8 _scaled_mm.
  const auto& points = r.profile.gemm_points;
  CHECK(std::none_of(points.begin(), points.end(), [](const auto& p) { return p.m == 4096 && p.n == 4096; }));
  CHECK(std::any_of(points.begin(), points.end(), [](const auto& p) { return p.m == 2048 && p.n == 2048; }));
  const SkippedOp& fp32 = skipped_op(r.skipped, "aten::mm");  // the import's aten::mm (no dims) comes first...
  CHECK(fp32.reason.find("GEMM op") == 0);
  int fp32_calls = 0, fp8_calls = 0;
  for (const auto& k : r.skipped) {
    if (k.reason == "fp32: the fit takes bf16 records only (the device's peak is bf16)") fp32_calls += k.calls;
    if (k.op == "aten::_scaled_mm" && k.reason.rfind("fp8_e4m3: ", 0) == 0) fp8_calls += k.calls;
  }
  CHECK(fp32_calls == 1);
  CHECK(fp8_calls == 1);
  // The profile's report lists the import's five and the fit's two.
  const auto& report = r.profile.report.at("skipped");
  CHECK(report.size() == 7);
  CHECK(report[0].at("op") == "_LinearBackward");
  CHECK(report[0].at("calls") == 1);
}
