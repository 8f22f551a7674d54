#pragma once
// The `herd train --json` object (schema in docs/models/reliability.md, "Output").
#include <nlohmann/json.hpp>

#include "herd/sim/run/run_simulation.hpp"

namespace herd::sim::run {

nlohmann::json run_report_json(const RunReport& report);

}  // namespace herd::sim::run
