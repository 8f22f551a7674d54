// Collectives through the use case: the plan's groups or a rank list, one row per size, the same
// result on a shared platform, progress per size, a stop between sizes, and a bad op.
#include <catch2/catch.hpp>

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

TEST_CASE("without --concurrent only rank 0's group runs; a rank list is one group", "[app][collective]") {
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
