#include "herd/gui/step_compare.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "herd/gui/time_axis.hpp"

namespace herd::gui {

namespace {

std::string printf_string(const char* format, double v) {
  char text[64];
  std::snprintf(text, sizeof text, format, v);
  return text;
}

std::string percent(double share) { return printf_string("%.1f %%", 100 * share); }

/// Joules with three significant digits in J, kJ or MJ.
std::string joules(double j) {
  if (std::abs(j) >= 1e6) return printf_string("%.3g MJ", j / 1e6);
  if (std::abs(j) >= 1e3) return printf_string("%.3g kJ", j / 1e3);
  return printf_string("%.3g J", j);
}

/// "what B vs A (change)", both durations in one unit.
std::string duration_pair(const char* what, double a, double b) {
  const double magnitude = std::max(std::abs(a), std::abs(b));
  return std::string(what) + " " + format_duration(b, 0, magnitude) + " vs " + format_duration(a, 0, magnitude) + " (" +
         percent_change(a, b) + ")";
}

}  // namespace

std::string percent_change(double a, double b) {
  if (a == 0) return b == 0 ? "±0 %" : "n/a";
  const double change = 100 * (b - a) / std::abs(a);
  if (std::abs(change) < 0.05) return "±0 %";
  const double shown = std::abs(change);
  return (change > 0 ? "+" : "−") + printf_string(shown >= 100 ? "%.0f %%" : "%.1f %%", shown);
}

std::string describe_layout(const model::PlanSpec& plan) {
  std::string out = "TP " + std::to_string(plan.tp);
  if (plan.cp > 1) out += " · CP " + std::to_string(plan.cp);
  out += " · PP " + std::to_string(plan.pp);
  if (plan.virtual_stages > 1) out += " · V " + std::to_string(plan.virtual_stages);
  out += " · DP " + std::to_string(plan.dp) + " · mb " + std::to_string(plan.micro_batch) + " · " +
         std::string(model::to_string(plan.schedule));
  if (plan.dp_sharding != model::DpSharding::zero1) out += " · " + std::string(model::to_string(plan.dp_sharding));
  if (plan.recompute != model::Recompute::none) out += " · recompute " + std::string(model::to_string(plan.recompute));
  return out;
}

StepFigures step_figures(const sim::StepReport& report, const model::PlanSpec* plan, std::optional<double> energy_per_token_j) {
  StepFigures f;
  if (plan) f.layout = describe_layout(*plan);
  f.step_time_s = report.step_time_s;
  f.mfu = report.mfu;
  const auto& b = report.breakdown;
  f.bubble_s = b.bubble_s;
  f.exposed_comm_s = b.exposed_tp_s + b.exposed_cp_s + b.exposed_pp_s + b.exposed_dp_s;
  f.energy_per_token_j = energy_per_token_j;
  return f;
}

std::string step_title(const std::string& name, const StepFigures& f) {
  std::string out = name + ":";
  if (!f.layout.empty()) out += " " + f.layout + " ·";
  out += " step " + format_duration(f.step_time_s);
  if (f.mfu > 0) out += " · MFU " + percent(f.mfu);
  out += " · bubble " + percent(f.bubble_share()) + " of the step";
  return out;
}

std::string compare_summary_line(const StepFigures& a, const StepFigures& b) {
  std::string out = "B vs A: " + duration_pair("step", a.step_time_s, b.step_time_s);
  out += " · MFU " + percent(b.mfu) + " vs " + percent(a.mfu) + " (" + percent_change(a.mfu, b.mfu) + ")";
  out += " · " + duration_pair("bubble", a.bubble_s, b.bubble_s);
  out += " · " + duration_pair("exposed comm", a.exposed_comm_s, b.exposed_comm_s);
  if (a.energy_per_token_j && b.energy_per_token_j)
    out += " · energy per token " + joules(*b.energy_per_token_j) + " vs " + joules(*a.energy_per_token_j) + " (" +
           percent_change(*a.energy_per_token_j, *b.energy_per_token_j) + ")";
  return out;
}

}  // namespace herd::gui
