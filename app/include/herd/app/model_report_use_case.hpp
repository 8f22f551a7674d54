#pragma once
// `herd model`: what the model is, what it costs per token, the plan, and whether it fits in
// memory, stage by stage. Closed forms only: no simulation.
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "herd/model/architecture.hpp"
#include "herd/model/memory.hpp"
#include "herd/model/plan.hpp"
#include "herd/model/scenario.hpp"
#include "herd/sim/control.hpp"

namespace herd::app {

struct ModelReportRequest {
  model::Scenario scenario;
  std::string calibration_file;  ///< empty: the scenario's `calibration` key, if any
};

/// The calibration profile the scenario's predictions would use; the report's own figures do not
/// depend on it.
struct CalibrationInfo {
  std::string file;
  std::string device;   ///< the GPU it was measured on
  std::string backend;  ///< how it was measured
  std::string warning;  ///< measured on another GPU than the scenario's; "" when not
};

struct ModelReport {
  std::string scenario_name, scenario_source;
  model::TransformerSpec model;
  model::PlanSpec plan;
  model::ParameterCounts parameters;
  double model_flops_per_token = 0;  ///< at the model's seq_len, causal attention included
  double tokens_per_step = 0;        ///< global batch x seq_len
  model::MemoryReport memory;        ///< bytes per GPU, per pipeline stage
  std::optional<CalibrationInfo> calibration;
};

/// Throws model::InputError for a calibration profile that cannot be read, sim::Cancelled when
/// `control` asks to stop before the work starts.
ModelReport model_report(const ModelReportRequest& request, const sim::Control& control = {});

/// The `herd model --json` object (schema in docs/cli.md).
nlohmann::json to_json(const ModelReport& report);
/// `herd model --csv`: the memory table, one row per pipeline stage, in bytes:
/// stage,layers,embedding,output,parameters,weights_bytes,gradients_bytes,optimizer_bytes,
/// activations_bytes,inflight_microbatches,communication_bytes,transient_bytes,runtime_bytes,
/// total_bytes,capacity_bytes (embedding and output 0 or 1).
std::string to_csv(const ModelReport& report);

}  // namespace herd::app
