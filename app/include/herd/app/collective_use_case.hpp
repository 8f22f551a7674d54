#pragma once
// `herd collective`: one NCCL collective over the plan's groups, simulated on the scenario's fabric
// for each size, with the algorithm the model chose, how many groups ran at once and the link that
// held them back (what nccl-tests' columns show).
#include <cstddef>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "herd/model/scenario.hpp"
#include "herd/sim/control.hpp"
#include "herd/sim/network/network.hpp"
#include "herd/sim/step/step_simulator.hpp"

namespace herd::app {

struct CollectiveRequest {
  model::Scenario scenario;
  std::string op = "all_reduce";  ///< a collective name (model::parse_collective)
  /// "dp", "tp", "pp", "cp", "all" (the plan's groups of that kind), or a rank list such as
  /// "0-7,16" (parse_ranks).
  std::string group = "dp";
  std::vector<double> sizes;      ///< bytes per rank (nccl-tests' convention), one run each (parse_size, parse_sweep)
  std::string dtype = "float";    ///< element type, for the element count (dtype_bytes)
  bool concurrent = false;        ///< every group of the kind at once, as in a training step; else rank 0's
  /// A calibration profile whose measured collectives cost the calls (empty: the scenario's
  /// `calibration` key, if any; docs/models/network.md).
  std::string calibration_file;
  /// A platform whose fabric of the scenario's cluster is shared with other calls. Null: a fabric
  /// of this call's own.
  const sim::StepSimulator* simulator = nullptr;
};

struct CollectiveRow {
  double bytes = 0;  ///< per rank
  sim::CollectiveResult result;
};

struct CollectiveReport {
  std::string scenario;                  ///< its name
  std::string op, group, dtype;          ///< as requested
  int type_bytes = 0;                    ///< bytes per element of `dtype`
  bool concurrent = false;               ///< as requested
  std::size_t groups_total = 0;          ///< groups of the requested kind in the plan
  std::vector<std::vector<int>> groups;  ///< the groups that ran, concurrently (never empty)
  std::vector<CollectiveRow> rows;       ///< one per requested size, in order
  std::string calibration;               ///< the profile's file; "" when none
  std::string calibration_warning;       ///< the profile was measured on another GPU; "" when not
  /// The profile holds a measured curve for this op on the first group's shape: each row's
  /// result carries it (CollectiveResult::measured_time_s).
  bool measured = false;
};

/// Reports each size done to `control` and checks for a stop between sizes. Throws
/// model::InputError("--op", "--dtype" or "--group", as collective_inputs.hpp) for a bad request,
/// naming the profile for one that cannot be read (model::profile_for), or naming the scenario for
/// a cluster or plan whose fabric or rank layout cannot be built;
/// sim::Cancelled when `control` asks to stop.
CollectiveReport collective(const CollectiveRequest& request, const sim::Control& control = {});

/// The `herd collective --json` object (schema in docs/models/network.md).
nlohmann::json to_json(const CollectiveReport& report);
/// `herd collective --csv`: one row per size, nccl-tests' columns and the text's:
/// size_bytes,count,type,time_us,profile_us,algbw_gbs,busbw_gbs,algorithm,protocol,channels,groups,bottleneck
/// (profile_us empty without a measured curve).
std::string to_csv(const CollectiveReport& report);

}  // namespace herd::app
