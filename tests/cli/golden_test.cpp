// Golden summaries: every built-in scenario and every published run of the validation table,
// simulated and trained through the `herd` commands' JSON, against the summaries checked in under
// tests/golden/. A change that moves a prediction fails here with the keys that moved; when the
// move is intended, regenerate with `scripts/update-golden` and commit the diff with its reason.
//
// Numbers compare to a relative 1e-6 (simulated time is integer nanoseconds, so a reordered
// floating-point sum can move a figure by a nanosecond, never by a part per million).
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "herd/model/io.hpp"
#include "run_herd.hpp"

using nlohmann::json;

namespace {

const std::filesystem::path kGolden = std::filesystem::path(HERD_SOURCE_DIR) / "tests" / "golden";

bool updating() {
  const char* v = std::getenv("HERD_UPDATE_GOLDEN");
  return v != nullptr && std::string(v) == "1";
}

json run_json(const std::vector<std::string>& args) {
  const HerdRun r = run_herd(args);
  INFO("herd " << args.front() << ": " << r.err);
  // Exit 3: a plan that does not fit in memory still prints its figures (and says so).
  REQUIRE((r.code == 0 || r.code == 3));
  json j = json::parse(r.out);
  if (r.code == 3) CHECK(j.contains("memory_warning"));
  return j;
}

// What a step prediction is: time, throughput, where the time goes, memory. Not how many events
// the simulator needed.
json step_summary(const json& s) {
  json out;
  for (const char* k : {"step_time_s", "tokens_per_s", "tflops_per_gpu", "mfu", "hfu", "critical_stage", "bottleneck",
                        "stage_finish_s", "breakdown", "fits"})
    out[k] = s.at(k);
  json totals = json::array();
  for (const auto& st : s.at("memory").at("stages")) totals.push_back(st.at("total"));
  out["memory_per_stage_bytes"] = totals;
  return out;
}

json run_summary(const json& r) {
  json out;
  for (const char* k : {"time_to_train_days", "effective_training_time", "gpu_hours", "ideal_days",
                        "checkpoint_interval_s", "young_interval_s", "daly_interval_s", "time_lost_hours"})
    out[k] = r.at(k);
  out["interruptions"] = {{"planned", r.at("interruptions").at("planned")},
                          {"unexpected", r.at("interruptions").at("unexpected")}};
  json steps = json::array();
  for (const auto& p : r.at("phases")) steps.push_back(p.at("step_time_s"));
  out["phase_step_time_s"] = steps;
  return out;
}

// Appends "pointer: golden X, now Y" for every leaf that differs.
void diff(const json& golden, const json& now, const std::string& at, std::vector<std::string>& out) {
  if (golden.is_number() && now.is_number()) {
    const double a = golden.get<double>(), b = now.get<double>();
    if (std::abs(a - b) > 1e-6 * std::max(std::abs(a), std::abs(b)) + 1e-12)
      out.push_back(at + ": golden " + golden.dump() + ", now " + now.dump());
    return;
  }
  if (golden.type() != now.type() || (golden.is_array() && golden.size() != now.size())) {
    out.push_back(at + ": golden " + golden.dump() + ", now " + now.dump());
    return;
  }
  if (golden.is_object()) {
    for (const auto& [k, v] : golden.items())
      if (now.contains(k)) diff(v, now[k], at + "/" + k, out);
      else out.push_back(at + "/" + k + ": missing now");
    for (const auto& [k, v] : now.items())
      if (!golden.contains(k)) out.push_back(at + "/" + k + ": new");
    return;
  }
  if (golden.is_array()) {
    for (std::size_t i = 0; i < golden.size(); ++i) diff(golden[i], now[i], at + "/" + std::to_string(i), out);
    return;
  }
  if (golden != now) out.push_back(at + ": golden " + golden.dump() + ", now " + now.dump());
}

void check_golden(const std::string& name, const json& now) {
  const auto file = kGolden / (name + ".json");
  if (updating()) {
    std::filesystem::create_directories(file.parent_path());
    herd::model::write_file_atomically(file, now.dump(2) + "\n");
    return;
  }
  std::ifstream in(file);
  INFO(file.string() << " is missing: run scripts/update-golden");
  REQUIRE(in.good());
  std::vector<std::string> moved;
  diff(json::parse(in), now, "", moved);
  std::ostringstream text;
  for (const auto& m : moved) text << "  " << m << "\n";
  INFO(name << " moved (scripts/update-golden regenerates it once the change is intended):\n" << text.str());
  CHECK(moved.empty());
}

}  // namespace

TEST_CASE("golden: built-in scenarios, step and run", "[golden]") {
  for (const char* name : {"llama3-405b-16k", "llama3-405b-8k", "llama3-405b-128k", "llama3-70b", "llama3-8b"}) {
    SECTION(name) {
      json summary;
      summary["scenario"] = name;
      summary["step"] = step_summary(run_json({"simulate", name, "--json"}));
      // A run needs a budget; scenarios without one train 1T tokens. 200 trials keep CI quick.
      std::vector<std::string> train{"train", name, "--json", "--trials", "200"};
      const auto s = json::parse(run_herd({"scenario", name}).out);
      const auto tokens = json::json_pointer("/run/tokens");
      if (!s.contains(tokens) || s.at(tokens).is_null()) train.insert(train.end(), {"--set", "run.tokens=1T"});
      summary["run"] = run_summary(run_json(train));
      check_golden(std::string("builtin/") + name, summary);
    }
  }
}

TEST_CASE("golden: published runs of the validation table", "[golden]") {
  std::ifstream in(std::string(HERD_SOURCE_DIR) + "/scenarios/validation/published.json");
  REQUIRE(in.good());
  std::vector<std::string> done;
  for (const auto& entry : json::parse(in)) {
    const std::string file = entry.at("scenario").get<std::string>();
    if (std::find(done.begin(), done.end(), file) != done.end()) continue;
    done.push_back(file);
    const std::string stem = std::filesystem::path(file).stem().string();
    SECTION(stem) {
      json summary;
      summary["scenario"] = file;
      summary["step"] = step_summary(run_json({"simulate", std::string(HERD_SOURCE_DIR) + "/" + file, "--json"}));
      check_golden("published/" + stem, summary);
    }
  }
}
