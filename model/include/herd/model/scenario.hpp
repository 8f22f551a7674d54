#pragma once
// A scenario: cluster + model + plan + run + reliability + what-ifs, loaded from JSON with presets
// and `--set` overrides, validated against the declared table (params.hpp), with defaults filled.
#include <cstdint>
#include <filesystem>
#include <map>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "herd/model/architecture.hpp"
#include "herd/model/hardware.hpp"
#include "herd/model/plan.hpp"
#include "herd/model/reliability.hpp"
#include "herd/model/search.hpp"

namespace herd::model {

struct BatchPhase {
  double start_tokens = 0;
  std::int64_t seq_len = 0;
  std::int64_t global_batch = 0;   ///< sequences per step
  nlohmann::json set = nlohmann::json::object();  ///< overrides for this phase ({"plan.dp": 64})
};

struct RunSpec {
  double tokens = 0;                ///< token budget; 0 when not given
  double step_time_s = 0;           ///< given step time; 0 when it is to be simulated
  std::vector<BatchPhase> batch_schedule;  ///< at least one phase
  double window_s = 0;              ///< wall-clock seconds to simulate (run.window); 0: none
  int trials = 1000;                ///< Monte Carlo trials of `herd train`
  std::uint64_t seed = 1;           ///< seed of those trials
};

/// A GPU that computes slower than the rest.
struct Straggler {
  int rank = 0;                     ///< global rank, inside the job
  double slowdown = 0;              ///< fraction longer each compute op takes (0.2: 1.2x)
};

/// What-ifs that the step simulation applies per rank (degraded NICs are part of ClusterSpec).
struct WhatIfSpec {
  std::vector<Straggler> stragglers;
  double power_cap_w = 0;    ///< per-GPU power limit below the board's; 0: none
  double power_floor_w = 0;  ///< least a GPU draws in a job (filler work while it would wait); 0: none
};

struct Scenario {
  std::string name;
  std::string description;
  std::string source;               ///< file name, "built-in <name>", ...
  std::filesystem::path base_dir;   ///< relative paths inside the scenario resolve against this
  std::string calibration;          ///< path of a calibration profile, "" when none
  nlohmann::json resolved;          ///< the whole document after presets, overrides and defaults
  std::map<std::string, std::string> provenance;  ///< JSON pointer -> source, for values not from `source`

  ClusterSpec cluster;
  TransformerSpec model;
  PlanSpec plan;
  RunSpec run;
  ReliabilitySpec reliability;      ///< failure classes merged over the defaults of failure_defaults
  WhatIfSpec whatif;
  SearchSpace search;               ///< what `herd plan` may vary (the `search` section)

  /// Where the value at `pointer` came from: the file, a preset or a --set.
  std::string source_of(const std::string& pointer) const;
  /// Turns a ValueError from a later check into an InputError naming the right source.
  [[noreturn]] void fail(const std::string& pointer, const std::string& message) const;
};

/// A `--set` override: "plan.tp=4", "cluster.nic.bandwidth=200 Gbps", "model=llama3-70b".
/// The value is parsed as JSON when it is valid JSON, else taken as a string.
struct Override {
  std::string path;  ///< dotted
  nlohmann::json value;
  std::string text;  ///< as the user wrote it, for error messages
};
/// Throws InputError (source "--set") when the text has no '='.
Override parse_override(std::string_view text);

/// Loads a scenario file, a built-in scenario name ("llama3-405b-16k") or a model preset name
/// (that model on the default scenario's cluster at TP 8 and the shallowest pipeline, 1, 2, 4, ...
/// stages, whose memory fits; the default scenario's own model gives the default scenario).
/// "-" reads the scenario's JSON from standard input (named "<stdin>" in errors).
/// Throws InputError (exit code 2 in the CLI).
Scenario load_scenario(std::string_view file_or_name, std::span<const Override> overrides = {});
/// The built-in default: Llama 3 405B on 16,384 H100, TP 8, CP 1, PP 16, DP 128.
Scenario default_scenario(std::span<const Override> overrides = {});
/// Builds from an in-memory document; `source` names it in errors.
Scenario scenario_from_json(nlohmann::json doc, std::string source, std::filesystem::path base_dir = {},
                            std::span<const Override> overrides = {});
/// The same scenario with more overrides, as a batch phase or a what-if needs ({"plan.dp": 64}).
Scenario with_overrides(const Scenario& base, const nlohmann::json& dotted_values, const std::string& source);

inline constexpr std::string_view kDefaultScenario = "llama3-405b-16k";

}  // namespace herd::model
