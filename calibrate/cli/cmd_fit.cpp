// herd-calibrate fit: raw measurements -> calibration profile, with residuals and the whole-layer
// check (measured against Herd's prediction before and after calibration).
#include <cmath>
#include <cstdio>
#include <memory>
#include <ostream>

#include "calibrate_commands.hpp"
#include "herd/calibrate/cli.hpp"
#include "herd/calibrate/fit.hpp"
#include "herd/cli/files.hpp"
#include "herd/model/error.hpp"
#include "herd/model/io.hpp"
#include "herd/model/scenario.hpp"

namespace herd::calibrate::cli {

namespace {

struct FitCommand {
  std::vector<std::string> inputs;
  std::string output, gpu_preset, report;
};

std::string pct(double predicted, double measured) {
  char text[32];
  std::snprintf(text, sizeof text, "%+.1f%%", 100.0 * (predicted / measured - 1));
  return text;
}

DeviceInfo device_of(const model::CalibrationProfile& p) {
  DeviceInfo d;
  d.name = p.gpu_name;
  d.peak_flops = p.peak_flops.value_or(1);
  d.memory_bandwidth = p.memory_bandwidth.value_or(1);
  d.parallel_units = p.parallel_units.value_or(1);
  return d;
}

void print_summary(std::ostream& out, const FitResult& r) {
  const auto& p = r.profile;
  char line[256];
  out << "Device      " << p.gpu_name << " (" << p.backend << ")\n";
  if (p.gemm_efficiency) {
    model::Op reference;
    reference.kind = model::OpKind::gemm;
    reference.gemm = {model::kReferenceGemm, model::kReferenceGemm, model::kReferenceGemm};
    const bool outside = model::ComputeCostModel(measured_gpu_spec(device_of(p)), &p).extrapolated(reference);
    std::snprintf(line, sizeof line, "GEMM        %.3f of peak at 8192^3%s; tiles %dx%d, k_half %d\n", *p.gemm_efficiency,
                  outside ? " (extrapolated: no shape near it was measured)" : "", *p.gemm_tile_m, *p.gemm_tile_n, *p.gemm_k_half);
    out << line;
  }
  if (p.attention_seq_half)
    std::snprintf(line, sizeof line, "Attention   forward %.3f, backward %.3f of peak at 8K keys; s_half %.0f (%s)\n",
                  p.attention_fwd_efficiency.value_or(0), p.attention_bwd_efficiency.value_or(0), *p.attention_seq_half,
                  p.attention_impl.c_str()),
        out << line;
  if (p.kernel_overhead_s)
    std::snprintf(line, sizeof line, "Kernels     overhead %.2f us; copy at %.3f of %.3g B/s\n", *p.kernel_overhead_s * 1e6,
                  p.hbm_efficiency.value_or(0), p.memory_bandwidth.value_or(0)),
        out << line;
  for (const auto& [cls, e] : p.elementwise)
    std::snprintf(line, sizeof line, "            %-18s %.3f of bandwidth\n", cls.c_str(), e.efficiency), out << line;
  if (p.sustained_fraction)
    std::snprintf(line, sizeof line,
                  "Sustained   layers run back to back settle at %.3f of their first runs' speed (GEMM and attention "
                  "efficiencies scaled by it)\n",
                  *p.sustained_fraction),
        out << line;
  for (const auto& [name, c] : p.collectives)
    std::snprintf(line, sizeof line, "Collective  %-28s alpha %.2f us, %.1f GB/s algbw (%d ranks, %d nodes)\n", name.c_str(),
                  c.alpha_s * 1e6, c.bandwidth / 1e9, c.ranks, c.nodes),
        out << line;
  out << "\nResiduals ln(measured / fitted)      points      rms      max\n";
  for (const auto& s : r.summary)
    std::snprintf(line, sizeof line, "  %-34s %6d  %7.3f  %7.3f\n", s.op_class.c_str(), s.points, s.rms_log_residual,
                  s.max_abs_log_residual),
        out << line;
  if (!r.layers.empty()) out << "\n", print_layer_checks(out, r.layers);
  if (!r.skipped.empty()) out << "\n", print_skipped(out, r.skipped);
  for (const auto& w : r.warnings) out << "warning: " << w << "\n";
}

}  // namespace

void print_layer_checks(std::ostream& out, const std::vector<LayerCheck>& layers) {
  out << "Whole layer forward + backward                   measured   predicted: preset       calibrated   (ops outside the data)\n";
  char line[256];
  for (const auto& l : layers) {
    std::snprintf(line, sizeof line, "  %-44s %9.3f ms  %9.3f ms %7s  %9.3f ms %7s  (%d)\n", l.label.c_str(), l.measured_s * 1e3,
                  l.default_s * 1e3, pct(l.default_s, l.measured_s).c_str(), l.calibrated_s * 1e3,
                  pct(l.calibrated_s, l.measured_s).c_str(), l.extrapolated_ops);
    out << line;
  }
}

void print_skipped(std::ostream& out, const std::vector<SkippedOp>& skipped, std::size_t max_lines) {
  out << "Left out, by op                                 calls   kernel ms   reason\n";
  char line[512];
  std::size_t shown = 0;
  int rest_calls = 0;
  for (const auto& s : skipped) {
    if (shown == max_lines) {
      rest_calls += s.calls;
      continue;
    }
    std::snprintf(line, sizeof line, "  %-44s %6d  %10.3f   %s\n", s.op.c_str(), s.calls, s.kernel_s * 1e3, s.reason.c_str());
    out << line;
    ++shown;
  }
  if (shown < skipped.size())
    out << "  ... and " << skipped.size() - shown << " more ops (" << rest_calls << " calls); all of them in the JSON\n";
}

model::GpuSpec gpu_preset(const std::string& name) {
  const model::Override gpu = model::parse_override("cluster.gpu=" + name);
  try {
    return model::default_scenario({&gpu, 1}).cluster.gpu;
  } catch (const model::InputError& e) {
    throw model::InputError("--gpu-preset " + name, "", e.message());
  }
}

Action add_fit_command(CLI::App& app) {
  auto c = std::make_shared<FitCommand>();
  auto* cmd = app.add_subcommand("fit", "Fit Herd's cost model to raw measurements and write a calibration profile");
  cmd->add_option("raw", c->inputs, "Raw measurement files (measure, import-*; -: standard input)")
      ->required()
      ->check(herd::cli::input_file())
      ->type_name("FILE");
  cmd->add_option("-o,--output", c->output, "Calibration profile to write (-: standard output, the text going to standard error)")->required()->type_name("FILE");
  cmd->add_option("--gpu-preset", c->gpu_preset,
                  "GPU preset for the before-calibration prediction (default: the one matching the device name)")
      ->type_name("GPU");
  auto* report_option =
      cmd->add_option("--report", c->report, "Also write every point's residual and the layer checks as JSON")
          ->type_name("FILE");
  return [c, report_option](Streams io) {
    herd::cli::check_output(c->output, "--output");
    if (report_option->count() > 0) model::check_output_path(c->report, "--report");
    herd::cli::check_stdin_once(c->inputs, "raw");
    std::vector<MeasurementSet> sets;
    for (const auto& f : c->inputs) sets.push_back(load_measurements(f));
    FitOptions options;
    if (!c->gpu_preset.empty()) options.baseline = gpu_preset(c->gpu_preset);
    FitResult r;
    try {
      r = fit(sets, options);
    } catch (const model::ValueError& e) {
      throw model::InputError(c->inputs.size() == 1 ? model::source_name(c->inputs.front()) : "the raw files",
                              e.pointer(), e.message());
    }
    herd::cli::write_output(c->output, model::to_json(r.profile).dump(1) + "\n", io.out);
    if (!c->report.empty()) {
      nlohmann::json report{{"residuals", nlohmann::json::array()}, {"layers", r.profile.report.value("validation", nlohmann::json())}};
      for (const auto& x : r.residuals)
        report["residuals"].push_back({{"what", x.what}, {"measured_s", x.measured_s}, {"fitted_s", x.fitted_s},
                                       {"log_residual", x.log_residual}});
      model::write_file_atomically(c->report, report.dump(1) + "\n");
    }
    std::ostream& text = c->output == herd::cli::kStdoutFile ? io.err : io.out;
    print_summary(text, r);
    text << "\nwrote " << model::output_name(c->output) << "\n";
    return kExitOk;
  };
}

}  // namespace herd::calibrate::cli
