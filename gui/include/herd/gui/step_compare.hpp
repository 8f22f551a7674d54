#pragma once
// Two steps side by side (the step timeline's "compare with B"): what each one's title line says
// about it and the one-line difference B vs A. Plain C++ (no Qt): the figures are taken from the
// reports of app::simulate, nothing is computed here but ratios.
#include <optional>
#include <string>

#include "herd/model/plan.hpp"
#include "herd/sim/step/step_report.hpp"

namespace herd::gui {

/// What a step's title line and the comparison give for one step.
struct StepFigures {
  std::string layout;          ///< "TP 8 · PP 16 · V 1 · DP 128 · mb 1 · 1f1b"; "" unknown (a saved step)
  double step_time_s = 0;
  double mfu = 0;
  double bubble_s = 0;         ///< of the stage that finishes last (StepReport::breakdown)
  double exposed_comm_s = 0;   ///< TP, CP, PP and DP communication the same stage waits on
  std::optional<double> energy_per_token_j;  ///< facility energy per token (null: no power)
  double bubble_share() const { return step_time_s > 0 ? bubble_s / step_time_s : 0; }
};

/// `report`'s figures; `plan` names the layout (null: no layout), `energy_per_token_j` from its power.
StepFigures step_figures(const sim::StepReport& report, const model::PlanSpec* plan,
                         std::optional<double> energy_per_token_j);

/// The layout in a few words: "TP 8 · CP 2 · PP 16 · V 2 · DP 128 · mb 1 · interleaved" (CP and V
/// only when above 1; recomputation and DP mode when not the defaults).
std::string describe_layout(const model::PlanSpec& plan);

/// A step's title line over its timeline: "A: TP 8 · PP 16 · DP 128 · mb 1 · 1f1b · step 8.41 s ·
/// MFU 40.1 % · bubble 6.2 % of the step".
std::string step_title(const std::string& name, const StepFigures& f);

/// The difference in one line, B's value first and its change against A in %: "B vs A: step 9.10
/// s vs 8.41 s (+8.2 %) · MFU 37.1 % vs 40.1 % (−7.5 %) · bubble … · exposed comm … · energy per
/// token …".
std::string compare_summary_line(const StepFigures& a, const StepFigures& b);

/// (b − a) / a in percent with its sign ("+8.2 %", "−7.5 %", "±0 %"); "n/a" when a is 0.
std::string percent_change(double a, double b);

}  // namespace herd::gui
