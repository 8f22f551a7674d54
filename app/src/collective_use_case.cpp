#include "herd/app/collective_use_case.hpp"

#include <memory>
#include <optional>

#include "herd/app/collective_inputs.hpp"
#include "herd/app/scenario_loading.hpp"
#include "herd/engine/simulation.hpp"
#include "herd/engine/time_overflow.hpp"
#include "herd/model/csv.hpp"
#include "herd/model/error.hpp"
#include "herd/model/placement.hpp"

namespace herd::app {

namespace {

std::vector<std::vector<int>> groups_of(const std::string& group, const model::RankLayout& layout) {
  using model::Axis;
  if (group == "tp" || group == "cp" || group == "pp" || group == "dp") {
    const Axis axis = group == "tp" ? Axis::tp : group == "cp" ? Axis::cp : group == "pp" ? Axis::pp : Axis::dp;
    return layout.groups(axis);
  }
  if (group == "all") {
    const Axis every[] = {Axis::tp, Axis::cp, Axis::pp, Axis::dp};
    return layout.groups(every);
  }
  return {parse_ranks(group, layout.ranks())};
}

}  // namespace

CollectiveReport collective(const CollectiveRequest& request, const sim::Control& control) {
  const auto op = model::parse_collective(request.op);
  if (!op)
    throw model::InputError("--op", "", "unknown collective \"" + request.op +
                                            "\" (all_reduce, all_gather, reduce_scatter, broadcast, reduce, all_to_all, send_recv)");
  CollectiveReport report;
  report.scenario = request.scenario.name;
  report.op = request.op;
  report.group = request.group;
  report.dtype = request.dtype;
  report.type_bytes = dtype_bytes(request.dtype);
  report.concurrent = request.concurrent;
  const std::optional<model::CalibrationProfile> profile = calibration_profile(request.scenario, request.calibration_file);
  const model::Scenario s = with_profile(request.scenario, profile ? &*profile : nullptr);
  if (profile) {
    report.calibration = profile->source;
    report.calibration_warning = model::profile_mismatch(*profile, s.cluster.gpu);
  }
  std::shared_ptr<const sim::Fabric> fabric;
  std::optional<model::RankLayout> layout;
  try {
    fabric = request.simulator ? request.simulator->fabric(s.cluster) : std::make_shared<const sim::Fabric>(s.cluster);
    layout.emplace(s.plan, s.cluster);
  } catch (const model::ValueError& e) {
    s.fail(e.pointer(), e.message());
  }
  report.groups = groups_of(request.group, *layout);
  report.groups_total = report.groups.size();
  if (!request.concurrent) report.groups.resize(1);  // the group of rank 0
  const int sizes = static_cast<int>(request.sizes.size());
  for (const double bytes : request.sizes) {
    sim::check_stop(control);
    engine::Simulation simulation;
    sim::Network network(simulation, fabric);
    CollectiveRow row{bytes, {}};
    try {
      network.start_collective({*op, report.groups, bytes}, [&](const sim::CollectiveResult& r) { row.result = r; });
      simulation.run();
    } catch (const engine::TimeOverflow&) {
      time_overflow(s);
    }
    report.measured = report.measured || row.result.measured_time_s > 0;
    report.rows.push_back(std::move(row));
    if (control.progress) control.progress("sizes", static_cast<int>(report.rows.size()), sizes);
  }
  return report;
}

nlohmann::json to_json(const CollectiveReport& report) {
  nlohmann::json j = {{"scenario", report.scenario},
                      {"op", report.op},
                      {"group", report.group},
                      {"groups_total", report.groups_total},
                      {"groups_concurrent", report.groups.size()},
                      {"ranks_per_group", report.groups.front().size()},
                      {"first_group", report.groups.front()},
                      {"type", report.dtype},
                      {"results", nlohmann::json::array()}};
  for (const CollectiveRow& row : report.rows) {
    const auto& r = row.result;
    j["results"].push_back({{"bytes", row.bytes},
                            {"count", static_cast<long long>(row.bytes / report.type_bytes)},
                            {"time_us", r.time_s() * 1e6},
                            {"algbw_gbs", r.algbw() / 1e9},
                            {"busbw_gbs", r.busbw() / 1e9},
                            {"algorithm", sim::to_string(r.algorithm)},
                            {"protocol", sim::to_string(r.protocol)},
                            {"channels", r.channels},
                            {"latency_us", r.latency_s * 1e6},
                            {"uncontended_time_us", r.uncontended_time_s * 1e6},
                            {"bottleneck", r.bottleneck_name},
                            {"model_time_us", r.uncontended_time_s / r.calibration * 1e6},
                            {"measured_us", r.measured_time_s > 0 ? nlohmann::json(r.measured_time_s * 1e6) : nlohmann::json()},
                            {"calibration", r.calibration}});
  }
  j["calibration"] = report.calibration.empty() ? nlohmann::json() : nlohmann::json(report.calibration);
  return j;
}

std::string to_csv(const CollectiveReport& report) {
  model::CsvTable table({"size_bytes", "count", "type", "time_us", "profile_us", "algbw_gbs", "busbw_gbs", "algorithm",
                         "protocol", "channels", "groups", "bottleneck"});
  for (const CollectiveRow& row : report.rows) {
    const auto& r = row.result;
    table.add_row({std::to_string(static_cast<long long>(row.bytes)),
                   std::to_string(static_cast<long long>(row.bytes / report.type_bytes)), report.dtype,
                   model::csv_number(r.time_s() * 1e6),
                   r.measured_time_s > 0 ? model::csv_number(r.measured_time_s * 1e6) : "",
                   model::csv_number(r.algbw() / 1e9), model::csv_number(r.busbw() / 1e9),
                   std::string(sim::to_string(r.algorithm)), std::string(sim::to_string(r.protocol)),
                   std::to_string(r.channels), std::to_string(r.groups), r.bottleneck_name});
  }
  return table.text();
}

}  // namespace herd::app
