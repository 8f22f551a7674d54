// A Kineto trace as torch.profiler writes it (record_shapes=True): kernels matched to their CPU op
// by External id, several kernels of one call summed, repeated calls of one shape gathered.
#include <catch2/catch.hpp>

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
  CHECK(s.notes.size() == 2);  // the orphan kernel is reported

  CHECK_THROWS_AS(import_kineto_trace(json::object()), model::ValueError);
}
