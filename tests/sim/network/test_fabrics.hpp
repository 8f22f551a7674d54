#pragma once
// Small clusters for network and collective tests, built from presets the way a scenario file
// would name them, and a helper that runs one collective call to completion.
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "herd/engine/simulation.hpp"
#include "herd/model/scenario.hpp"
#include "herd/sim/network/network.hpp"

namespace herd::test {

inline std::shared_ptr<const sim::Fabric> fabric_from(const nlohmann::json& doc, sim::FabricOptions options = {}) {
  return std::make_shared<const sim::Fabric>(model::scenario_from_json(doc, "test fabric").cluster, options);
}

/// `nodes` servers of 8 GPUs of a preset cluster; plan TP 8 x DP nodes (Llama 3 8B).
inline nlohmann::json nodes_of(const std::string& preset, int nodes) {
  return {{"cluster", {{"preset", preset}, {"num_gpus", 8 * nodes}}},
          {"model", "llama3-8b"},
          {"plan", {{"tp", 8}, {"pp", 1}, {"dp", nodes}}}};
}

/// `n` single-GPU servers under one switch, 400 Gb/s NICs (llama3-roce preset otherwise).
inline nlohmann::json single_switch(int n) {
  nlohmann::json doc = {{"cluster",
                         {{"preset", "llama3-roce"},
                          {"num_gpus", n},
                          {"gpus_per_node", 1},
                          {"nic", {{"per_node", 1}}},
                          {"topology", {{"family", "single_switch"}}}}},
                        {"model", "llama3-8b"},
                        {"plan", {{"tp", 1}, {"pp", 1}, {"dp", n}}}};
  return doc;
}

inline std::vector<int> first_ranks(int n) {
  std::vector<int> ranks(static_cast<std::size_t>(n));
  std::iota(ranks.begin(), ranks.end(), 0);
  return ranks;
}

inline sim::CollectiveResult run_collective(const std::shared_ptr<const sim::Fabric>& fabric,
                                            const sim::CollectiveRequest& request) {
  engine::Simulation simulation;
  sim::Network network(simulation, fabric);
  sim::CollectiveResult result;
  network.start_collective(request, [&](const sim::CollectiveResult& r) { result = r; });
  simulation.run();
  return result;
}

inline constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;
inline constexpr double kMiB = 1024.0 * 1024.0;

}  // namespace herd::test
