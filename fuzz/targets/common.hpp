#pragma once
// What the fuzz targets share: running `herd` and `herd-calibrate` in process, and the words and
// paths of the scenario table for the mutator.
#include <string>
#include <vector>

#include "fuzz_target.hpp"

namespace herd::fuzz {

Outcome run_herd(const std::vector<std::string>& args);
Outcome run_herd_calibrate(const std::vector<std::string>& args);

/// Every declared scenario key, dotted as model::scenario_params() spells it.
std::vector<std::string> scenario_paths();
/// Leaf key names, choices, preset names and a valid value of every dimension.
std::vector<std::string> scenario_words();

}  // namespace herd::fuzz
