// nccl-tests output in the layouts its versions print, and the published DGX H100 all-reduce curve.
#include <catch2/catch.hpp>

#include <cmath>

#include "herd/calibrate/fit.hpp"
#include "herd/calibrate/import.hpp"
#include "herd/model/error.hpp"

using namespace herd;
using namespace herd::calibrate;

namespace {
std::string data(const std::string& name) { return std::string(HERD_SOURCE_DIR) + "/tests/data/calibration/" + name; }

// nccl-tests 2.13 layout (size count type redop root ...), two processes on two hosts.
constexpr const char* kCurrent = R"(# nThread 1 nGpus 1 minBytes 8 maxBytes 1048576 step: 2(factor) warmup iters: 5 iters: 20 agg iters: 1 validation: 1 graph: 0
#
# Using devices
#  Rank  0 Group  0 Pid  11 on   node-a device  0 [0x18] NVIDIA H100 80GB HBM3
#  Rank  1 Group  0 Pid  12 on   node-b device  0 [0x18] NVIDIA H100 80GB HBM3
node-a:11:11 [0] NCCL INFO Bootstrap : Using eth0
#
#                                                              out-of-place                       in-place
#       size         count      type   redop    root     time   algbw   busbw #wrong     time   algbw   busbw #wrong
#        (B)    (elements)                               (us)  (GB/s)  (GB/s)            (us)  (GB/s)  (GB/s)
           0             0     float    none      -1     0.10    0.00    0.00      0     0.10    0.00    0.00      0
        1024           128     float    none      -1    20.00    0.05    0.03      0    19.00    0.05    0.03      0
     1048576        131072     float    none      -1   100.00   10.49    5.24      0    90.00   11.65    5.83      0
# Out of bounds values : 0 OK
# Avg bus bandwidth    : 1.8
)";

// An older layout without the root column, error columns printed as floats, no rank lines.
constexpr const char* kOld = R"(#                                                       out-of-place                       in-place
#       size         count      type   redop     time   algbw   busbw  error     time   algbw   busbw  error
     65536          8192   float     sum    16.57    3.96    6.92  0e+00    13.83    4.74    8.29  0e+00
  67108864       8388608   float     sum   1568.3   42.79   74.89  0e+00   1560.9   42.99   75.24  0e+00
)";
}  // namespace

TEST_CASE("bus bandwidth factors follow nccl-tests' conventions", "[calibrate][import]") {
  CHECK(bus_bandwidth_factor("all_reduce", 8) == Approx(2.0 * 7 / 8));
  CHECK(bus_bandwidth_factor("all_gather", 8) == Approx(7.0 / 8));
  CHECK(bus_bandwidth_factor("reduce_scatter", 4) == Approx(3.0 / 4));
  CHECK(bus_bandwidth_factor("broadcast", 8) == 1);
  CHECK(bus_bandwidth_factor("send_recv", 2) == 1);
}

TEST_CASE("nccl-tests output with rank lines over two hosts", "[calibrate][import]") {
  const MeasurementSet s = import_nccl_tests(kCurrent, "all_gather_perf.log");
  CHECK(s.device.name == "NVIDIA H100 80GB HBM3");
  CHECK(s.device.devices == 2);
  REQUIRE(s.records.size() == 4);  // the 0-byte row is skipped; out-of-place and in-place of two sizes
  const Record& r = s.records[2];
  CHECK(r.op == "all_gather");
  CHECK(r.collective.bytes == 1048576);
  CHECK(r.collective.ranks == 2);
  CHECK(r.collective.nodes == 2);
  CHECK_FALSE(r.collective.in_place);
  CHECK(r.median_s == Approx(100e-6));
  CHECK(s.records[3].collective.in_place);
  CHECK(s.records[3].median_s == Approx(90e-6));
  CHECK(s.notes.size() == 1);  // busbw / algbw = 0.5 = (n-1)/n for 2 ranks: no warning
}

TEST_CASE("nccl-tests output without root column or rank lines", "[calibrate][import]") {
  // busbw / algbw = 74.89 / 42.79 = 1.750 = 2(n-1)/n, so n = 8.
  const MeasurementSet s = import_nccl_tests(kOld, "run.txt", "all_reduce");
  REQUIRE(s.records.size() == 4);
  CHECK(s.records[0].collective.ranks == 8);
  CHECK(s.records[0].collective.nodes == 1);
  CHECK(s.records[2].median_s == Approx(1568.3e-6));
  CHECK_THROWS_WITH(import_nccl_tests(kOld, "run.txt"), Catch::Contains("cannot tell which collective"));
  CHECK_THROWS_WITH(import_nccl_tests("# nothing\n", "all_reduce_perf.txt"), Catch::Contains("no nccl-tests result rows"));
  CHECK_THROWS_WITH(import_nccl_tests("   1024  256 float sum 12.0\n", "all_reduce_perf.txt"),
                    Catch::Contains("line 1"));
}

TEST_CASE("the published DGX H100 NVLS all-reduce curve", "[calibrate][import][fit]") {
  const MeasurementSet s = import_nccl_tests_file(data("dgx-h100-nvls-all-reduce.txt"));
  REQUIRE(s.records.size() == 10);  // out-of-place only: the in-place columns are N/A
  CHECK(s.records[0].collective.ranks == 8);
  const FitResult r = fit({s});
  const auto& ar = r.profile.collectives.at("all_reduce/intra_node");
  // The line through 1 MiB (27.4 us) and 16 GiB (62634.9 us): B = (16 GiB - 1 MiB) / (t1 - t0),
  // whose busbw, B x 14/8, is the published 480 GB/s plateau.
  const double b = (17179869184.0 - 1048576.0) / ((62634.9 - 27.4) * 1e-6);
  CHECK(ar.bandwidth == Approx(b).epsilon(1e-9));
  CHECK(ar.bandwidth * 14 / 8 / 1e9 == Approx(480).epsilon(0.002));
  CHECK(ar.alpha_s == Approx(27.4e-6 - 1048576.0 / b).epsilon(1e-9));
  // One alpha-beta line cannot follow NVLS's bandwidth ramp (237 GB/s busbw at 16 MiB): at
  // 16 MiB it predicts 23.6 + 61.2 = 84.8 us against 123.9 measured.
  CHECK(ar.rms_log_residual > 0.1);
  // Inside the measured range the curve itself is used: exact at the points, log-log between them.
  CHECK(model::collective_seconds(ar, 16777216) == Approx(123.9e-6).epsilon(1e-9));
  const double between = model::collective_seconds(ar, 33554432);
  CHECK(between == Approx(std::sqrt(123.9e-6 * 324.4e-6)).epsilon(1e-9));  // halfway in log size
  CHECK_FALSE(model::collective_extrapolated(ar, 1e9));
  CHECK(model::collective_extrapolated(ar, 1e3));
}

TEST_CASE("nccl-tests output that is not UTF-8 is bad input naming the log (found by herd_fuzz_nccl_tests)",
          "[calibrate][import]") {
  try {
    import_nccl_tests("#  size count type\n  8 2 float sum -1 1.0 0.01 0.01 0 \xfb\n", "log.txt");
    FAIL("accepted");
  } catch (const model::InputError& e) {
    CHECK(e.source() == "log.txt");
    CHECK_THAT(e.message(), Catch::Contains("invalid UTF-8 at byte 54"));
  }
}
