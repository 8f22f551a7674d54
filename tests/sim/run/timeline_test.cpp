// A trial's timeline: ordered, non-overlapping spans that cover the run; Chrome trace JSON.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "herd/sim/run/report_json.hpp"
#include "herd/model/error.hpp"
#include "herd/sim/run/run_simulation.hpp"
#include "run_fixtures.hpp"

using namespace herd::sim::run;

TEST_CASE("timeline of a trial", "[run][timeline]") {
  RunModel m = test::unit_model(200'000, 30, 400);
  m.phases[0].end_tokens = 50'000;
  Phase second = m.phases[0];
  second.start_tokens = 50'000;
  second.end_tokens = 200'000;
  second.step_time_s = 0.5;  // twice the tokens per second
  m.phases.push_back(second);
  m.failures = {test::failure("a", 30'000, 60)};
  m.planned_rate_per_s = 1.0 / 80'000;
  const RunSimulation sim(m);
  const TrialResult r = simulate_trial(m, 4, 0, 3000);
  const RunTimeline t = sim.timeline(4, 0, 3000);

  double covered = 0, previous_end = 0;
  int failures = 0, phase_starts = 0;
  for (const auto& s : t.spans) {
    CHECK(s.start_s >= previous_end - 1e-9);
    CHECK(s.end_s >= s.start_s);
    covered += s.end_s - s.start_s;
    previous_end = s.end_s;
  }
  for (const auto& e : t.events) {
    failures += e.kind == EventKind::failure;
    phase_starts += e.kind == EventKind::phase_start;
  }
  CHECK(failures == r.unexpected);
  CHECK(phase_starts >= 1);
  CHECK(previous_end == Approx(r.elapsed_s));
  CHECK(covered == Approx(r.elapsed_s));  // every second is training, a stall or downtime

  const auto doc = nlohmann::json::parse(timeline_chrome_json(t, "unit"));
  REQUIRE(doc.contains("traceEvents"));
  std::size_t complete = 0;
  for (const auto& e : doc["traceEvents"]) complete += e["ph"] == "X";
  CHECK(complete == t.spans.size());
  CHECK(doc["herd_run_timeline"]["spans"].size() == t.spans.size());
}

TEST_CASE("a timeline read back from its JSON is the same timeline", "[run][timeline][json]") {
  RunModel m = test::unit_model(200'000, 30, 400);
  m.failures = {test::failure("a", 30'000, 60)};
  m.planned_rate_per_s = 1.0 / 80'000;
  const RunTimeline t = RunSimulation(m).timeline(4, 0, 3000);
  REQUIRE(t.events.size() > 1);
  const auto doc = nlohmann::json::parse(timeline_chrome_json(t, "unit"));
  const RunTimeline back = run_timeline_from_json(doc.at("herd_run_timeline"));
  REQUIRE(back.spans.size() == t.spans.size());
  for (std::size_t i = 0; i < t.spans.size(); ++i) {
    CHECK(back.spans[i].kind == t.spans[i].kind);
    CHECK(back.spans[i].start_s == t.spans[i].start_s);
    CHECK(back.spans[i].end_s == t.spans[i].end_s);
    CHECK(back.spans[i].phase == t.spans[i].phase);
  }
  REQUIRE(back.events.size() == t.events.size());
  for (std::size_t i = 0; i < t.events.size(); ++i) {
    CHECK(back.events[i].kind == t.events[i].kind);
    CHECK(back.events[i].time_s == t.events[i].time_s);
    CHECK(back.events[i].label == t.events[i].label);
    CHECK(back.events[i].category == t.events[i].category);
  }
  CHECK(run_timeline_json(back) == run_timeline_json(t));
  // What cannot be read is named by its pointer within the timeline.
  nlohmann::json bad = run_timeline_json(t);
  bad["spans"][1]["kind"] = "nap";
  try {
    run_timeline_from_json(bad);
    FAIL("an unknown span kind was read");
  } catch (const herd::model::ValueError& e) {
    CHECK(e.pointer() == "/spans/1/kind");
  }
  bad = run_timeline_json(t);
  std::swap(bad["spans"][0], bad["spans"][2]);
  CHECK_THROWS_AS(run_timeline_from_json(bad), herd::model::ValueError);
}
