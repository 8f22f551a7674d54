// The step report as JSON (`herd simulate --json`, schema in docs/cli.md).
#include "herd/sim/step/step_report.hpp"

#include <string>

#include "herd/engine/check.hpp"

namespace herd::sim {

void check_breakdown(const StepBreakdown& b, double step_time_s, const std::string& who) {
  const double parts = b.total();
  if (parts > step_time_s * (1 + 1e-9) + 1e-9)
    engine::invariant_failure("step breakdown of " + who + " adds up to " + std::to_string(parts) +
                              " s, more than its step of " + std::to_string(step_time_s) + " s");
}

std::string_view to_string(CommGroup g) {
  switch (g) {
    case CommGroup::tp: return "tp";
    case CommGroup::cp: return "cp";
    case CommGroup::pp: return "pp";
    case CommGroup::dp: return "dp";
    case CommGroup::dp_cp: return "dp_cp";
  }
  return "";
}

nlohmann::json breakdown_json(const StepBreakdown& b) {
  return {{"compute_s", b.compute_s},       {"optimizer_s", b.optimizer_s},   {"exposed_tp_s", b.exposed_tp_s},
          {"exposed_cp_s", b.exposed_cp_s}, {"exposed_pp_s", b.exposed_pp_s}, {"exposed_dp_s", b.exposed_dp_s},
          {"pipeline_bubble_s", b.bubble_s}, {"other_s", b.other_s}};
}

StepBreakdown breakdown_from_json(const nlohmann::json& j) {
  StepBreakdown b;
  b.compute_s = j.at("compute_s");
  b.optimizer_s = j.at("optimizer_s");
  b.exposed_tp_s = j.at("exposed_tp_s");
  b.exposed_cp_s = j.at("exposed_cp_s");
  b.exposed_pp_s = j.at("exposed_pp_s");
  b.exposed_dp_s = j.at("exposed_dp_s");
  b.bubble_s = j.at("pipeline_bubble_s");
  b.other_s = j.at("other_s");
  return b;
}

nlohmann::json step_report_json(const StepReport& r) {
  const auto& b = r.breakdown;
  nlohmann::json j;
  j["scenario"] = r.scenario;
  j["step_time_s"] = r.step_time_s;
  j["tokens_per_step"] = r.tokens_per_step;
  j["tokens_per_s"] = r.tokens_per_s;
  j["tflops_per_gpu"] = r.tflops_per_gpu;
  j["mfu"] = r.mfu;
  j["hfu"] = r.hfu;
  j["model_flops_per_step"] = r.model_flops_per_step;
  j["hardware_flops_per_step"] = r.hardware_flops_per_step;
  j["breakdown"] = breakdown_json(b);
  j["critical_stage"] = r.critical_stage;
  j["critical_rank"] = r.critical_rank;
  j["bottleneck"] = r.bottleneck;
  j["stage_finish_s"] = r.stage_finish_s;
  nlohmann::json stages = nlohmann::json::array();
  for (const auto& st : r.memory.stages)
    stages.push_back({{"stage", st.stage}, {"weights", st.weights}, {"gradients", st.gradients},
                      {"optimizer", st.optimizer}, {"activations", st.activations},
                      {"communication", st.communication}, {"transient", st.transient}, {"runtime", st.runtime},
                      {"total", st.total()}});
  j["memory"] = {{"capacity_bytes", r.memory.capacity_bytes}, {"largest_stage", r.memory.largest_stage},
                 {"stages", stages}};
  j["fits"] = r.fits;
  j["simulated_ranks"] = r.simulated_ranks;
  j["events"] = r.events;
  return j;
}

}  // namespace herd::sim
