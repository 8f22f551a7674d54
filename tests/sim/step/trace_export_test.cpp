// The trace written as the step runs (ChromeTraceWriter): the same events as the in-memory export
// (chrome_trace_json) per rank and in symmetric mode, power counters included, each written as
// nlohmann::json would; a filter keeps
// exactly the ranks and streams it names; the step's report and power do not depend on where the
// spans go.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <set>

#include <unistd.h>

#include <nlohmann/json.hpp>

#include "herd/sim/power/step_power.hpp"
#include "herd/sim/step/step_simulator.hpp"
#include "herd/sim/step/trace_export.hpp"

using namespace herd;

namespace {

// 16 GPUs, TP 2 x PP 2 x DP 4: compute, TP, PP and DP streams all carry spans.
model::Scenario small_scenario() {
  std::vector<model::Override> o;
  for (const char* t : {"cluster.num_gpus=16", "plan.tp=2", "plan.pp=2", "plan.dp=4", "plan.global_batch=16"})
    o.push_back(model::parse_override(t));
  return model::load_scenario("llama3-8b", o);
}

nlohmann::json read_json(const std::filesystem::path& path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in);
}

struct Streamed {
  sim::StepReport report;
  sim::StepPower power;
  std::size_t held = 0;  ///< what the power kept of the spans for finish()
  nlohmann::json doc;
  std::string text;
};

Streamed stream(const model::Scenario& s, bool per_rank, sim::TraceFilter filter = {}) {
  const sim::StepSimulator simulator;
  // A file of this process' own: CTest runs test cases side by side.
  static int calls = 0;
  const auto path = std::filesystem::temp_directory_path() /
                    ("herd_trace_export_test." + std::to_string(::getpid()) + "." + std::to_string(++calls) + ".json");
  const int ranks = per_rank ? s.plan.gpus() : s.plan.pp;
  sim::ChromeTraceWriter writer(path, s.name, ranks, per_rank, std::move(filter));
  sim::PowerRecorder recorder(sim::power_setup(s, simulator), ranks);
  sim::TraceTee tee({&writer, &recorder});
  sim::StepOptions options;
  options.per_rank = per_rank;
  options.trace = true;
  options.trace_sink = &tee;
  Streamed out;
  out.report = simulator.simulate(s, options);
  out.held = recorder.held_changes();
  out.power = recorder.finish(out.report);
  writer.finish(out.report.step_time_s, &out.power);
  out.doc = read_json(path);
  out.text = model::read_text_file(path, "trace");
  std::filesystem::remove(path);
  return out;
}

}  // namespace

TEST_CASE("a streamed trace holds the in-memory export's events, in its order", "[trace]") {
  const model::Scenario s = small_scenario();
  for (const bool per_rank : {true, false}) {
    INFO((per_rank ? "per rank" : "symmetric"));
    const sim::StepSimulator simulator;
    sim::StepOptions options;
    options.per_rank = per_rank;
    options.trace = true;
    const sim::StepReport in_memory = simulator.simulate(s, options);
    const sim::StepPower power = sim::step_power(in_memory, sim::power_setup(s, simulator));
    const auto expected = nlohmann::json::parse(sim::chrome_trace_json(in_memory, &power));

    const Streamed streamed = stream(s, per_rank);
    CHECK(streamed.report.trace.empty());  // the spans went to the file, not the report
    CHECK(streamed.report.trace_ops.size() == in_memory.trace_ops.size());
    REQUIRE(streamed.doc["traceEvents"].size() == expected["traceEvents"].size());
    CHECK(streamed.doc["traceEvents"].size() > 1000);
    // Parsed, the documents are equal: same events in the same order, same step time, and the
    // same power counters to the bit (the power's energies add up in integer nanojoules, in
    // whatever order the ranks come).
    CHECK(streamed.doc == expected);
    // Each event is on a line of its own, written as nlohmann::json writes it (so byte for byte
    // as in the in-memory export, whose events the writer does not build as JSON values).
    std::size_t lines = 0, at = streamed.text.find('\n') + 1;
    bool same = true;
    while (at < streamed.text.size() && streamed.text[at] == '{') {
      const std::size_t end = streamed.text.find('\n', at);
      std::string line = streamed.text.substr(at, end - at);
      if (line.back() == ',') line.pop_back();
      same = same && nlohmann::json::parse(line).dump() == line;
      ++lines;
      at = end + 1;
    }
    CHECK(same);
    CHECK(lines == expected["traceEvents"].size());
  }
}

TEST_CASE("the step's report and power are the same whether its spans stream or stay in memory", "[trace][power]") {
  const model::Scenario s = small_scenario();
  const sim::StepSimulator simulator;
  sim::StepOptions options;
  options.per_rank = true;
  options.trace = true;
  const sim::StepReport in_memory = simulator.simulate(s, options);
  const sim::StepPower power = sim::step_power(in_memory, sim::power_setup(s, simulator));
  sim::TraceFilter filter;
  filter.ranks = {3};
  const Streamed streamed = stream(s, true), filtered = stream(s, true, filter);
  for (const Streamed* st : {&streamed, &filtered}) {
    CHECK(st->held == 0);  // the power followed each rank through time, keeping nothing per span
    CHECK(sim::step_report_json(st->report) == sim::step_report_json(in_memory));
    CHECK(st->report.events == in_memory.events);
    CHECK(sim::step_power_json(st->power) == sim::step_power_json(power));
  }
}

TEST_CASE("a trace filter keeps exactly the ranks and streams it names", "[trace]") {
  const model::Scenario s = small_scenario();
  const Streamed all = stream(s, true);
  sim::TraceFilter filter;
  filter.ranks = {5, 0, 12};
  filter.streams.fill(false);
  filter.streams[static_cast<std::size_t>(model::index_of(model::Stream::compute))] = true;
  filter.streams[static_cast<std::size_t>(model::index_of(model::Stream::dp_comm))] = true;
  const Streamed some = stream(s, true, filter);

  const std::set<int> ranks{0, 5, 12};
  const std::set<int> tids{model::index_of(model::Stream::compute), model::index_of(model::Stream::dp_comm)};
  const int power_pid = s.plan.gpus();
  // The unfiltered file's events that the filter keeps, in order: rank processes and their kept
  // threads, spans of kept ranks on kept streams, the power process with the cluster's counter
  // and the kept ranks' GPU counters.
  nlohmann::json expected = nlohmann::json::array();
  for (const auto& e : all.doc["traceEvents"]) {
    const int pid = e["pid"];
    if (pid == power_pid) {
      if (e["ph"] == "M" || e["name"] == "cluster power (IT)") expected.push_back(e);
      else for (int r : ranks)
        if (e["name"] == "rank " + std::to_string(r) + " GPU power") expected.push_back(e);
      continue;
    }
    if (!ranks.count(pid)) continue;
    if (e.contains("tid") && !tids.count(e["tid"].get<int>())) continue;
    expected.push_back(e);
  }
  CHECK(some.doc["traceEvents"] == expected);
  std::set<int> pids, seen_tids;
  int spans = 0;
  for (const auto& e : some.doc["traceEvents"]) {
    if (e["ph"] != "X") continue;
    ++spans;
    pids.insert(e["pid"].get<int>());
    seen_tids.insert(e["tid"].get<int>());
  }
  CHECK(pids == ranks);
  CHECK(seen_tids == tids);
  CHECK(spans > 100);
  CHECK(some.doc["otherData"] == all.doc["otherData"]);
}

TEST_CASE("a trace writer that is not finished leaves the target as it was", "[trace]") {
  const auto path = std::filesystem::temp_directory_path() / ("herd_trace_unfinished." + std::to_string(::getpid()) + ".json");
  { std::ofstream(path) << "before"; }
  {
    sim::ChromeTraceWriter writer(path, "x", 2, true);
    sim::TraceOp op;
    op.name = "op";
    writer.span(sim::TraceSpan{}, op);
  }
  CHECK(model::read_text_file(path, "trace") == "before");
  for (const auto& entry : std::filesystem::directory_iterator(path.parent_path()))
    CHECK(entry.path().filename().string().rfind(path.filename().string() + ".tmp", 0) != 0);
  std::filesystem::remove(path);
}
