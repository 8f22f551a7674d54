// Step-time sources: the roofline estimate and a given step time scaled across phases.
#include <catch2/catch.hpp>

#include "herd/model/workload.hpp"
#include "herd/sim/run/run_model.hpp"
#include "herd/sim/run/step_time.hpp"

using namespace herd::sim::run;

TEST_CASE("roofline step time: model FLOPs over GPUs x peak x GEMM efficiency", "[run][step-time]") {
  const auto s = herd::model::default_scenario();
  // 16M tokens of 8,192 per step on 16,384 H100 at 989 TFLOP/s x 0.8.
  const double flops = herd::model::model_flops_per_token(s.model, 8192) * 8192.0 * 2048.0;
  CHECK(roofline_step_time(s) == Approx(flops / (16384 * 989e12 * 0.8)));
  CHECK(roofline_step_time(s) == Approx(3.27).epsilon(0.01));
}

TEST_CASE("a given step time applies to the plan's batch and scales to other phases", "[run][step-time]") {
  using herd::model::Override;
  const auto s = herd::model::default_scenario(std::vector<Override>{{"run.step_time", "6.5 s", "run.step_time=6.5 s"}});
  const auto source = prefer_given_step_time(s, roofline_step_time_source());
  const auto phases = phase_scenarios(s);
  REQUIRE(phases.size() == 3);  // 4K context x 1,024; 8K x 1,024; 8K x 2,048 sequences
  CHECK(source.step_time(phases[2]) == Approx(6.5));
  CHECK(source.step_time(phases[1]) == Approx(3.25));  // half the sequences
  // 4K context: half the tokens, and fewer attention FLOPs per token.
  const double ratio = herd::model::model_flops_per_token(s.model, 4096) / herd::model::model_flops_per_token(s.model, 8192);
  CHECK(source.step_time(phases[0]) == Approx(6.5 / 4 * ratio));
  // Without run.step_time, the fallback is used.
  CHECK(prefer_given_step_time(herd::model::default_scenario(), roofline_step_time_source()).name ==
        roofline_step_time_source().name);
}

TEST_CASE("phases of the Llama 3 405B batch schedule", "[run][step-time]") {
  const auto s = herd::model::default_scenario();
  const RunModel m = build_run_model(s, roofline_step_time);
  REQUIRE(m.phases.size() == 3);
  CHECK(m.phases[0].tokens_per_step() == 4096.0 * 1024);
  CHECK(m.phases[1].start_tokens == 252e6);
  CHECK(m.phases[2].start_tokens == 2.87e12);
  CHECK(m.phases[2].end_tokens == 15.6e12);
  // Failure-free time: each phase's tokens at its own rate.
  double ideal = 0;
  for (const auto& p : m.phases) ideal += (p.end_tokens - p.start_tokens) / p.tokens_per_s();
  CHECK(m.ideal_time(15.6e12) == Approx(ideal));
  CHECK(m.tokens_after(0, ideal, 1.0) == Approx(15.6e12));
  CHECK(m.tokens_after(0, 2 * ideal, 0.5) == Approx(15.6e12));
}
