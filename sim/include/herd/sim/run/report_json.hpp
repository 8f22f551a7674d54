#pragma once
// The `herd train --json` object (schema in docs/models/reliability.md, "Output"), and back.
#include <nlohmann/json.hpp>

#include "herd/sim/run/run_simulation.hpp"
#include "herd/sim/run/timeline.hpp"

namespace herd::sim::run {

nlohmann::json run_report_json(const RunReport& report);
/// The report run_report_json wrote (null figures: infinity). What it does not write stays at its
/// default (checkpoint.durable_lag_s, phases' dp); failure categories come back in name order.
/// Throws nlohmann::json::exception or model::ValueError (with the JSON pointer) for what it cannot read.
RunReport run_report_from_json(const nlohmann::json& j);

/// The timeline timeline_chrome_json writes under "herd_run_timeline" ({"spans", "events"}), and back.
nlohmann::json run_timeline_json(const RunTimeline& timeline);
/// Throws as run_report_from_json.
RunTimeline run_timeline_from_json(const nlohmann::json& j);

}  // namespace herd::sim::run
