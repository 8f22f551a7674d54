// The model report as `herd model` prints it: parameters, FLOPs, plan, memory per stage, the
// calibration profile it would use; and a stop before it starts.
#include <catch2/catch.hpp>

#include <stop_token>

#include "app_fixtures.hpp"
#include "herd/app/model_report_use_case.hpp"
#include "herd/app/scenario_loading.hpp"

using namespace herd;

TEST_CASE("model report of the default scenario: 405B parameters, 16 stages that fit", "[app][model]") {
  const app::ModelReport r = app::model_report({app::load_scenario(""), ""});
  CHECK(r.parameters.total == 405'853'388'800LL);
  CHECK(r.model_flops_per_token == Approx(2.524e12).epsilon(1e-3));
  CHECK(r.tokens_per_step == double(r.plan.global_batch) * double(r.model.seq_len));
  CHECK(r.memory.stages.size() == 16);
  CHECK(r.memory.fits);
  CHECK_FALSE(r.calibration);

  // The `herd model --json` keys (tests/cli/model_command_test.cpp checks the same through the CLI).
  const auto j = app::to_json(r);
  CHECK(j["parameters"].get<long long>() == 405'853'388'800LL);
  CHECK(j["memory"]["stages"].size() == 16);
  CHECK(j["memory"]["capacity_bytes"].get<double>() == Approx(80.0 * (1ULL << 30)));
  CHECK(j["plan"]["pp"] == 16);
  CHECK(j["fits"].get<bool>());
  CHECK_FALSE(j.contains("calibration"));
}

TEST_CASE("model report names the calibration profile and warns when it is another GPU's", "[app][model]") {
  const std::string file = app::test::profile_file("herd-app-model-report-profile.json", "NVIDIA A100-SXM4-80GB");
  const app::ModelReport r = app::model_report({app::load_scenario("llama3-8b"), file});
  REQUIRE(r.calibration);
  CHECK(r.calibration->file == file);
  CHECK(r.calibration->device == "NVIDIA A100-SXM4-80GB");
  CHECK(r.calibration->backend == "cuda");
  CHECK_THAT(r.calibration->warning, Catch::Contains("was measured on NVIDIA A100-SXM4-80GB"));
  CHECK(app::to_json(r)["calibration"]["warning"] == r.calibration->warning);
}

TEST_CASE("model report stopped before it starts throws Cancelled", "[app][model][control]") {
  std::stop_source stop;
  stop.request_stop();
  CHECK_THROWS_AS(app::model_report({app::load_scenario("llama3-8b"), ""}, {{}, stop.get_token()}), sim::Cancelled);
}
