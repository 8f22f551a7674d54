// Loading scenarios and calibration profiles as a front end does: names, --set-style overrides,
// the errors they throw.
#include <catch2/catch.hpp>

#include "app_fixtures.hpp"
#include "herd/app/scenario_loading.hpp"
#include "herd/model/error.hpp"

using namespace herd;

TEST_CASE("no name is the default scenario, overrides apply as --set does", "[app][scenario]") {
  const model::Scenario s = app::load_scenario("");
  CHECK(s.name == model::default_scenario().name);
  CHECK(s.cluster.num_gpus == 16384);
  const model::Scenario small = app::load_scenario("llama3-8b", {"run.trials=12", "cluster.nic.bandwidth=200 Gbps"});
  CHECK(small.model.name == model::load_scenario("llama3-8b").model.name);
  CHECK(small.run.trials == 12);
  CHECK(small.cluster.nic_bandwidth == Approx(200e9 / 8));
}

TEST_CASE("bad overrides throw InputError naming the --set and the pointer", "[app][scenario][errors]") {
  try {
    app::load_scenario("", {"plan.tp=6", "plan.dp=170", "cluster.num_gpus=16320"});
    FAIL("expected an InputError");
  } catch (const model::InputError& e) {
    CHECK(std::string(e.what()) == "--set plan.tp=6: /plan/tp: 6 does not divide 128 attention heads");
  }
  CHECK_THROWS_AS(app::load_scenario("", {"plan.tp"}), model::InputError);
  CHECK_THROWS_AS(app::load_scenario("missing.json"), model::InputError);
}

TEST_CASE("the calibration profile: the file given, else none for a scenario without the key", "[app][scenario]") {
  const model::Scenario s = app::load_scenario("llama3-8b");
  CHECK_FALSE(app::calibration_profile(s));
  const auto profile = app::calibration_profile(s, app::test::profile_file("herd-app-loading-profile.json", "NVIDIA H100"));
  REQUIRE(profile);
  CHECK(profile->gpu_name == "NVIDIA H100");
  CHECK_THROWS_AS(app::calibration_profile(s, "nowhere.json"), model::InputError);
}

TEST_CASE("a scenario's origin names its source and the overrides on it", "[app][scenario]") {
  CHECK(app::scenario_origin(app::load_scenario("llama3-8b")) == "built-in llama3-8b");
  // The name stays the file's ("... on 256 H100"); the origin tells the GPU count was changed.
  const model::Scenario s =
      app::load_scenario("llama3-8b", {"plan.tp=8", "cluster.num_gpus=32", "plan.pp=2", "plan.dp=2", "plan.global_batch=16"});
  CHECK(s.cluster.num_gpus == 32);
  CHECK(app::scenario_origin(s) ==
        "built-in llama3-8b with --set cluster.num_gpus=32 --set plan.dp=2 --set plan.global_batch=16 --set plan.pp=2 --set plan.tp=8");
}
