// Collectives through the use case: the plan's groups or a rank list, one row per size, the same
// result on a shared platform, progress per size, a stop between sizes, and a bad op.
#include <catch2/catch.hpp>

#include <cmath>
#include <stop_token>

#include "app_fixtures.hpp"
#include "herd/app/collective_inputs.hpp"
#include "herd/app/collective_use_case.hpp"
#include "herd/app/scenario_loading.hpp"
#include "herd/model/error.hpp"

using namespace herd;

namespace {

app::CollectiveRequest request_for(const std::string& op, const std::string& group, std::vector<double> sizes) {
  app::CollectiveRequest request;
  request.scenario = app::load_scenario("");
  request.op = op;
  request.group = group;
  request.sizes = std::move(sizes);
  return request;
}

}  // namespace

TEST_CASE("all 128 DP groups of the 16K plan at once: ring, held back by the NICs", "[app][collective]") {
  app::CollectiveRequest request = request_for("all_gather", "dp", {1 << 30});
  request.concurrent = true;
  const app::CollectiveReport r = app::collective(request);
  CHECK(r.groups_total == 128);
  CHECK(r.groups.size() == 128);
  CHECK(r.groups.front().size() == 128);
  REQUIRE(r.rows.size() == 1);
  const auto& result = r.rows[0].result;
  CHECK(r.rows[0].bytes == 1 << 30);
  CHECK(result.algorithm == sim::Algorithm::ring);
  CHECK(result.groups == 128);
  // The band `herd collective --concurrent --json` is held to (tests/cli/collective_test.cpp).
  CHECK(result.busbw() / 1e9 > 35);
  CHECK(result.busbw() / 1e9 < 47);
  CHECK(result.bottleneck_name.find("NIC") == 0);

  const auto j = app::to_json(r);
  CHECK(j["groups_concurrent"] == 128);
  CHECK(j["results"][0]["count"] == (1 << 30) / 4);
  CHECK(j["results"][0]["busbw_gbs"].get<double>() == result.busbw() / 1e9);
}

TEST_CASE("without --concurrent only rank 0's group runs, a rank list is one group", "[app][collective]") {
  const app::CollectiveReport dp = app::collective(request_for("all_reduce", "dp", {1 << 20}));
  CHECK(dp.groups_total == 128);
  REQUIRE(dp.groups.size() == 1);
  CHECK(dp.groups.front().front() == 0);
  const app::CollectiveReport ranks = app::collective(request_for("all_reduce", "0-7", {1 << 20}));
  CHECK(ranks.groups_total == 1);
  CHECK(ranks.groups == std::vector<std::vector<int>>{{0, 1, 2, 3, 4, 5, 6, 7}});
  CHECK_THROWS_AS(app::collective(request_for("all_reduce", "0-99999", {1 << 20})), model::InputError);
}

TEST_CASE("a sweep gives one row per size, reports each, and equals a shared platform's", "[app][collective]") {
  app::CollectiveRequest request = request_for("all_reduce", "tp", app::parse_sweep("1MiB:8MiB"));
  app::test::ProgressLog log;
  const app::CollectiveReport own = app::collective(request, {log.callback(), {}});
  REQUIRE(own.rows.size() == 4);
  CHECK(own.rows[3].bytes == 8 << 20);
  REQUIRE(log.calls.size() == 4);
  for (int i = 0; i < 4; ++i) CHECK(log.calls[std::size_t(i)].second == std::pair<int, int>{i + 1, 4});

  const sim::StepSimulator shared;
  request.simulator = &shared;
  const app::CollectiveReport on_shared = app::collective(request);
  CHECK(app::to_json(on_shared) == app::to_json(own));
}

TEST_CASE("a collective stops when asked, before the first size or between sizes", "[app][collective][control]") {
  const app::CollectiveRequest request = request_for("all_reduce", "tp", app::parse_sweep("1MiB:8MiB"));
  std::stop_source before;
  before.request_stop();
  CHECK_THROWS_AS(app::collective(request, {{}, before.get_token()}), sim::Cancelled);
  std::stop_source during;
  int sizes_done = 0;
  const sim::Control stop_after_first{[&](std::string_view, int done, int) {
                                        sizes_done = done;
                                        during.request_stop();
                                      },
                                      during.get_token()};
  CHECK_THROWS_AS(app::collective(request, stop_after_first), sim::Cancelled);
  CHECK(sizes_done == 1);
}

TEST_CASE("an unknown op names --op and the ops there are", "[app][collective][errors]") {
  try {
    app::collective(request_for("allsum", "dp", {1 << 20}));
    FAIL("expected an InputError");
  } catch (const model::InputError& e) {
    CHECK(std::string(e.what()).find("--op: unknown collective \"allsum\" (all_reduce, all_gather") == 0);
  }
}

TEST_CASE("with the published DGX H100 all-reduce profile, 8 GPUs all-reduce at the measured times", "[app][collective][calibration]") {
  // tests/data/calibration/dgx-h100-nvls-all-reduce.profile.json is `herd-calibrate fit` of the
  // transcribed nccl-tests log beside it: 10 (bytes, seconds) points from 1 MiB to 16 GiB, 8 ranks
  // on one node. At a measured size the simulated time is the measured one; between two, the
  // log-log interpolation t0 (t1 / t0)^(ln(S / S0) / ln(S1 / S0)). Simulated time is whole
  // nanoseconds (the latency and the data each end on the next one): within 2 ns.
  const double mib = 1024.0 * 1024.0;
  const std::vector<std::pair<double, double>> measured = {
      {1 * mib, 27.4e-6},    {4 * mib, 54.4e-6},    {16 * mib, 123.9e-6},  {64 * mib, 324.4e-6},
      {128 * mib, 585.7e-6}, {512 * mib, 2149.9e-6}, {1024 * mib, 4032.3e-6}, {16384 * mib, 62634.9e-6}};
  std::vector<double> sizes;
  for (const auto& [bytes, t] : measured) sizes.push_back(bytes);
  sizes.push_back(32 * mib);  // halfway between 16 and 64 MiB in log size
  app::CollectiveRequest request = request_for("all_reduce", "0-7", sizes);
  request.scenario = app::load_scenario("llama3-8b");
  const app::CollectiveReport before = app::collective(request);
  request.calibration_file = std::string(HERD_SOURCE_DIR) + "/tests/data/calibration/dgx-h100-nvls-all-reduce.profile.json";
  const app::CollectiveReport after = app::collective(request);
  CHECK(after.measured);
  CHECK_FALSE(before.measured);
  CHECK(after.calibration == request.calibration_file);
  REQUIRE(after.rows.size() == sizes.size());
  for (std::size_t i = 0; i < measured.size(); ++i) {
    INFO(measured[i].first << " B: model alone " << before.rows[i].result.time_s() * 1e6 << " us");
    CHECK(after.rows[i].result.time_s() == Approx(measured[i].second).margin(2e-9));
    CHECK(after.rows[i].result.measured_time_s == Approx(measured[i].second).epsilon(1e-9));
    // The model alone, for the record, is what the calibration replaced.
    CHECK(after.rows[i].result.uncontended_time_s / after.rows[i].result.calibration ==
          Approx(before.rows[i].result.uncontended_time_s).epsilon(1e-9));
  }
  CHECK(after.rows.back().result.time_s() == Approx(std::sqrt(123.9e-6 * 324.4e-6)).margin(2e-9));
  const auto j = app::to_json(after);
  CHECK(j["results"][0]["measured_us"].get<double>() == Approx(27.4));
  CHECK(j["results"][0]["model_time_us"].get<double>() == Approx(before.rows[0].result.uncontended_time_s * 1e6));
  CHECK(j["calibration"] == request.calibration_file);
  CHECK(app::to_json(before)["results"][0]["measured_us"].is_null());

  // Without a profile, or for groups it did not measure (4 ranks), the network model alone.
  request.group = "0-3";
  const app::CollectiveReport four = app::collective(request);
  request.calibration_file.clear();
  const app::CollectiveReport four_before = app::collective(request);
  CHECK_FALSE(four.measured);
  for (std::size_t i = 0; i < sizes.size(); ++i)
    CHECK(four.rows[i].result.time_s() == four_before.rows[i].result.time_s());
}
