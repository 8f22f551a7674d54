#include "herd/app/fit_runs_use_case.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <fstream>
#include <limits>
#include <optional>
#include <set>
#include <sstream>

#include <tbb/parallel_for.h>

#include "herd/app/scenario_loading.hpp"
#include "herd/model/error.hpp"
#include "herd/model/io.hpp"
#include "herd/sim/step/step_simulator.hpp"

namespace herd::app {

using nlohmann::json;

std::string_view to_string(FitParameter p) {
  switch (p) {
    case FitParameter::sustained: return "sustained";
    case FitParameter::attention: return "attention";
    case FitParameter::network: return "network";
  }
  return "?";
}

namespace {

constexpr int kParameters = 3;
constexpr std::array<FitParameter, kParameters> kAll{FitParameter::sustained, FitParameter::attention, FitParameter::network};

std::optional<FitParameter> parse_parameter(const std::string& name) {
  for (FitParameter p : kAll)
    if (to_string(p) == name) return p;
  return std::nullopt;
}

std::string key_of(FitParameter p) {
  switch (p) {
    case FitParameter::sustained: return "cluster.gpu.efficiency.sustained";
    case FitParameter::attention: return "cluster.gpu.efficiency.attention_fwd, attention_bwd (factor)";
    case FitParameter::network: return "cluster.nic.efficiency";
  }
  return "";
}

std::string fixed(double v, int digits) {
  std::ostringstream o;
  o.setf(std::ios::fixed);
  o.precision(digits);
  o << v;
  return o.str();
}

// ---------------------------------------------------------------------------------------------
// The runs file.

const std::set<std::string> kRunKeys{"name", "scenario", "set", "step_time_s", "tokens_per_s", "tokens_per_s_per_gpu",
                                     "uncertainty", "source"};
const std::set<std::string> kFileKeys{"format", "version", "description", "parameters", "runs"};

double positive_number(const json& v, const std::string& ptr) {
  if (!v.is_number() || !std::isfinite(v.get<double>()) || !(v.get<double>() > 0))
    throw model::ValueError(ptr, "expected a positive number");
  return v.get<double>();
}

MeasuredRun read_run(const json& e, const std::string& ptr, const std::filesystem::path& base, const std::string& file) {
  if (!e.is_object()) throw model::ValueError(ptr, "expected an object with \"scenario\" and a measured figure");
  for (const auto& [key, value] : e.items())
    if (!kRunKeys.contains(key)) throw model::ValueError(ptr + "/" + key, "unknown key (expected one of name, scenario, set, step_time_s, tokens_per_s, tokens_per_s_per_gpu, uncertainty, source)");
  if (!e.contains("scenario") || !e["scenario"].is_string())
    throw model::ValueError(ptr + "/scenario", "expected the run's scenario: a file relative to the runs file, or a built-in name");
  const std::string named = e["scenario"].get<std::string>();
  std::vector<model::Override> overrides;
  if (e.contains("set")) {
    if (!e["set"].is_object()) throw model::ValueError(ptr + "/set", "expected an object of dotted keys, as --set takes them");
    for (const auto& [key, value] : e["set"].items())
      overrides.push_back({key, value, key + "=" + model::show_value(value)});
  }
  for (const char* key : {"name", "source"})
    if (e.contains(key) && !e[key].is_string()) throw model::ValueError(ptr + "/" + key, "expected a string");
  MeasuredRun run;
  run.name = e.value("name", std::filesystem::path(named).stem().string());
  run.source = e.value("source", std::string());
  const std::filesystem::path path = base / named;
  try {
    std::error_code ec;  // a name too long for the file system is no file, not an exception
    run.scenario = model::load_scenario(std::filesystem::exists(path, ec) ? path.string() : named, overrides);
  } catch (const model::InputError& err) {
    // An override's fault is the runs file's: name its key there.
    if (err.source().rfind("--set ", 0) == 0) {
      const std::string text = err.source().substr(6);
      throw model::InputError(file, ptr + "/set/" + text.substr(0, text.find('=')), err.message());
    }
    // A name that is no file, built-in scenario or preset is the runs file's fault too.
    if (err.source() == named) throw model::InputError(file, ptr + "/scenario", err.message());
    // Any other fault of the run's scenario: said with the run it belongs to.
    throw model::InputError(file, ptr, err.what());
  }
  try {  // its calibration profile (a `calibration` key, perhaps set here), read now to say which run
    (void)calibration_profile(run.scenario);
  } catch (const model::InputError& err) {
    throw model::InputError(file, ptr, err.what());
  }
  int figures = 0;
  const double tokens_per_step = double(run.scenario.plan.global_batch) * double(run.scenario.model.seq_len);
  if (e.contains("step_time_s")) ++figures, run.step_time_s = positive_number(e["step_time_s"], ptr + "/step_time_s");
  if (e.contains("tokens_per_s"))
    ++figures, run.step_time_s = tokens_per_step / positive_number(e["tokens_per_s"], ptr + "/tokens_per_s");
  if (e.contains("tokens_per_s_per_gpu"))
    ++figures, run.step_time_s = tokens_per_step / (positive_number(e["tokens_per_s_per_gpu"], ptr + "/tokens_per_s_per_gpu") *
                                                     run.scenario.cluster.num_gpus);
  if (figures != 1)
    throw model::ValueError(ptr, "expected exactly one measured figure: step_time_s, tokens_per_s or tokens_per_s_per_gpu");
  if (e.contains("uncertainty")) {
    run.uncertainty = positive_number(e["uncertainty"], ptr + "/uncertainty");
    if (run.uncertainty >= 1) throw model::ValueError(ptr + "/uncertainty", "expected a relative error below 1 (0.02 is 2 %)");
  }
  return run;
}

// ---------------------------------------------------------------------------------------------
// The fit.

using Theta = std::array<double, kParameters>;  // by FitParameter

struct Bounds {
  double lower = 0, upper = 0;
};

// Physical ranges. sustained: a GPU keeps at most its burst speed, and no published training run
// sits below 30 % of it. attention: a factor on the kernel efficiencies that keeps both below 95 %
// of peak. network: a NIC carries at most its line rate; 30 % is far below any RDMA fabric's.
Bounds bounds_of(FitParameter p, const model::Scenario& s) {
  switch (p) {
    case FitParameter::sustained: return {0.3, 1.0};
    case FitParameter::attention: {
      const auto& e = s.cluster.gpu.efficiency;
      return {0.5, std::min(1.5, 0.95 / std::max(e.attention_fwd, e.attention_bwd))};
    }
    case FitParameter::network: return {0.3, 1.0};
  }
  return {0, 1};
}

double initial_of(FitParameter p, const model::Scenario& s) {
  switch (p) {
    case FitParameter::sustained: return s.cluster.gpu.efficiency.sustained;
    case FitParameter::attention: return 1.0;
    case FitParameter::network: return s.cluster.nic_efficiency;
  }
  return 0;
}

struct Run {
  const MeasuredRun* measured = nullptr;
  std::optional<model::CalibrationProfile> profile;
  model::Scenario base;  // with the profile's network settings
  double weight = 1;     // one-sigma relative error the residual is divided by
};

// A parameter set applied to a run's scenario; only the `active` ones change it.
model::Scenario applied(const Run& run, const Theta& theta, const std::array<bool, kParameters>& active) {
  model::Scenario s = run.base;
  auto& e = s.cluster.gpu.efficiency;
  if (active[0]) e.sustained = theta[0];
  if (active[1]) e.attention_fwd *= theta[1], e.attention_bwd *= theta[1];
  if (active[2]) s.cluster.nic_efficiency = theta[2];
  return s;
}

struct Evaluator {
  const std::vector<Run>& runs;
  const sim::Control& control;
  int simulations = 0;

  // Step times of `which` runs, each at its own parameter set; in parallel, results in order.
  std::vector<double> steps(const std::vector<std::pair<int, Theta>>& which, const std::array<bool, kParameters>& active) {
    sim::check_stop(control);
    std::vector<double> out(which.size());
    tbb::parallel_for(std::size_t{0}, which.size(), [&](std::size_t k) {
      const Run& run = runs[static_cast<std::size_t>(which[k].first)];
      const model::Scenario s = applied(run, which[k].second, active);
      sim::StepOptions options;
      if (run.profile) options.calibration = &*run.profile;
      try {
        out[k] = sim::simulate_step(s, options, {{}, control.stop}).step_time_s;
      } catch (const model::ValueError& e) {
        s.fail(e.pointer(), e.message());
      }
    });
    simulations += static_cast<int>(which.size());
    return out;
  }
};

struct Problem {
  std::vector<int> runs;              // indices into the evaluator's runs
  std::vector<int> free;              // parameter indices fitted
  std::array<bool, kParameters> active{};  // parameters set on the scenarios (fitted or held)
  std::array<Bounds, kParameters> bounds{};
};

struct Solution {
  Theta theta{};
  std::vector<double> residuals;           // (ln simulated - ln measured) / weight, per run
  std::vector<std::vector<double>> jacobian;  // d residual / d theta_free, per run
  double cost = 0;
  std::vector<double> steps;
};

std::vector<double> residuals_of(const std::vector<Run>& runs, const std::vector<int>& which, const std::vector<double>& t) {
  std::vector<double> r(which.size());
  for (std::size_t i = 0; i < which.size(); ++i) {
    const Run& run = runs[static_cast<std::size_t>(which[i])];
    r[i] = std::log(t[i] / run.measured->step_time_s) / run.weight;
  }
  return r;
}

double sum_squares(const std::vector<double>& r) {
  double s = 0;
  for (double v : r) s += v * v;
  return s;
}

// Forward differences of the residuals at `theta` (a 1 % step of each free parameter, taken
// inwards at a bound).
std::vector<std::vector<double>> jacobian_at(Evaluator& eval, const Problem& pb, const Theta& theta,
                                             const std::vector<double>& r) {
  std::vector<std::pair<int, Theta>> batch;
  std::vector<double> step(pb.free.size());
  for (std::size_t j = 0; j < pb.free.size(); ++j) {
    const int p = pb.free[j];
    double h = 0.01 * theta[static_cast<std::size_t>(p)];
    if (theta[static_cast<std::size_t>(p)] + h > pb.bounds[static_cast<std::size_t>(p)].upper) h = -h;
    step[j] = h;
    for (int run : pb.runs) {
      Theta t = theta;
      t[static_cast<std::size_t>(p)] += h;
      batch.emplace_back(run, t);
    }
  }
  const std::vector<double> t = eval.steps(batch, pb.active);
  std::vector<std::vector<double>> J(pb.runs.size(), std::vector<double>(pb.free.size()));
  for (std::size_t j = 0; j < pb.free.size(); ++j) {
    const std::vector<double> shifted(t.begin() + static_cast<std::ptrdiff_t>(j * pb.runs.size()),
                                      t.begin() + static_cast<std::ptrdiff_t>((j + 1) * pb.runs.size()));
    const std::vector<double> rj = residuals_of(eval.runs, pb.runs, shifted);
    for (std::size_t i = 0; i < pb.runs.size(); ++i) J[i][j] = (rj[i] - r[i]) / step[j];
  }
  return J;
}

// Solves A x = b for a small symmetric positive definite A (Gaussian elimination with pivoting).
std::vector<double> solve(std::vector<std::vector<double>> A, std::vector<double> b) {
  const std::size_t n = b.size();
  for (std::size_t c = 0; c < n; ++c) {
    std::size_t pivot = c;
    for (std::size_t r = c + 1; r < n; ++r)
      if (std::fabs(A[r][c]) > std::fabs(A[pivot][c])) pivot = r;
    std::swap(A[c], A[pivot]);
    std::swap(b[c], b[pivot]);
    if (std::fabs(A[c][c]) < 1e-300) return std::vector<double>(n, std::numeric_limits<double>::quiet_NaN());
    for (std::size_t r = c + 1; r < n; ++r) {
      const double f = A[r][c] / A[c][c];
      for (std::size_t k = c; k < n; ++k) A[r][k] -= f * A[c][k];
      b[r] -= f * b[c];
    }
  }
  std::vector<double> x(n);
  for (std::size_t c = n; c-- > 0;) {
    double s = b[c];
    for (std::size_t k = c + 1; k < n; ++k) s -= A[c][k] * x[k];
    x[c] = s / A[c][c];
  }
  return x;
}

std::vector<std::vector<double>> normal_matrix(const std::vector<std::vector<double>>& J, std::size_t p) {
  std::vector<std::vector<double>> A(p, std::vector<double>(p, 0));
  for (const auto& row : J)
    for (std::size_t a = 0; a < p; ++a)
      for (std::size_t b = 0; b < p; ++b) A[a][b] += row[a] * row[b];
  return A;
}

std::vector<std::vector<double>> inverse(const std::vector<std::vector<double>>& A) {
  const std::size_t p = A.size();
  std::vector<std::vector<double>> inv(p, std::vector<double>(p));
  for (std::size_t c = 0; c < p; ++c) {
    std::vector<double> e(p, 0);
    e[c] = 1;
    const auto x = solve(A, e);
    for (std::size_t r = 0; r < p; ++r) inv[r][c] = x[r];
  }
  return inv;
}

// Levenberg-Marquardt on the free parameters, projected onto their bounds.
Solution least_squares(Evaluator& eval, const Problem& pb, Theta theta, const sim::Control& control, const std::string& what) {
  auto evaluate = [&](const Theta& t) {
    std::vector<std::pair<int, Theta>> batch;
    for (int run : pb.runs) batch.emplace_back(run, t);
    return eval.steps(batch, pb.active);
  };
  Solution s;
  s.theta = theta;
  s.steps = evaluate(theta);
  s.residuals = residuals_of(eval.runs, pb.runs, s.steps);
  s.cost = sum_squares(s.residuals);
  if (pb.free.empty()) return s;
  const std::size_t p = pb.free.size();
  double lambda = 1e-3;
  constexpr int kIterations = 40;
  for (int it = 0; it < kIterations; ++it) {
    if (control.progress) control.progress(what, it, kIterations);
    s.jacobian = jacobian_at(eval, pb, s.theta, s.residuals);
    const auto A = normal_matrix(s.jacobian, p);
    std::vector<double> g(p, 0);
    for (std::size_t i = 0; i < s.residuals.size(); ++i)
      for (std::size_t a = 0; a < p; ++a) g[a] -= s.jacobian[i][a] * s.residuals[i];
    bool improved = false, converged = false;
    while (lambda < 1e10) {
      auto damped = A;
      for (std::size_t a = 0; a < p; ++a) damped[a][a] += lambda * std::max(A[a][a], 1e-12);
      const auto delta = solve(damped, g);
      Theta next = s.theta;
      double largest = 0;
      for (std::size_t a = 0; a < p; ++a) {
        const auto idx = static_cast<std::size_t>(pb.free[a]);
        const double v = std::clamp(s.theta[idx] + (std::isfinite(delta[a]) ? delta[a] : 0.0), pb.bounds[idx].lower,
                                    pb.bounds[idx].upper);
        largest = std::max(largest, std::fabs(v - s.theta[idx]));
        next[idx] = v;
      }
      if (largest < 1e-6) {
        converged = true;
        break;
      }
      const auto t = evaluate(next);
      const auto r = residuals_of(eval.runs, pb.runs, t);
      const double cost = sum_squares(r);
      if (cost < s.cost) {
        converged = largest < 1e-4 || s.cost - cost < 1e-6 * s.cost;
        s.theta = next, s.steps = t, s.residuals = r, s.cost = cost;
        lambda = std::max(lambda / 3, 1e-9);
        improved = true;
        break;
      }
      lambda *= 4;
    }
    if (converged || !improved) break;
  }
  s.jacobian = jacobian_at(eval, pb, s.theta, s.residuals);
  return s;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

}  // namespace

RunsFile load_runs_file(const std::filesystem::path& file) {
  RunsFile out;
  out.file = model::source_name(file);
  const json doc = model::parse_json_file(file, "runs file", [](const json& j) { return j; });
  try {
    if (!doc.is_object() || doc.value("format", json()) != "herd-runs")
      throw model::ValueError("/format", "not a runs file (expected \"format\": \"herd-runs\")");
    if (!doc.contains("version") || doc["version"] != 1) throw model::ValueError("/version", "unsupported runs file version (this herd reads 1)");
    for (const auto& [key, value] : doc.items())
      if (!kFileKeys.contains(key)) throw model::ValueError("/" + key, "unknown key (expected format, version, description, parameters, runs)");
    if (doc.contains("description") && !doc["description"].is_string()) throw model::ValueError("/description", "expected a string");
    out.description = doc.value("description", std::string());
    out.parameters = {FitParameter::sustained};
    if (doc.contains("parameters")) {
      const json& ps = doc["parameters"];
      if (!ps.is_array() || ps.empty()) throw model::ValueError("/parameters", "expected a non-empty list of sustained, attention, network");
      out.parameters.clear();
      for (std::size_t i = 0; i < ps.size(); ++i) {
        const auto p = ps[i].is_string() ? parse_parameter(ps[i].get<std::string>()) : std::nullopt;
        if (!p) throw model::ValueError("/parameters/" + std::to_string(i), "expected sustained, attention or network, got " + model::show_value(ps[i]));
        if (std::find(out.parameters.begin(), out.parameters.end(), *p) != out.parameters.end())
          throw model::ValueError("/parameters/" + std::to_string(i), "named twice");
        out.parameters.push_back(*p);
      }
    }
    if (!doc.contains("runs") || !doc["runs"].is_array() || doc["runs"].empty())
      throw model::ValueError("/runs", "expected a non-empty list of runs");
    const std::filesystem::path base = file.parent_path();
    for (std::size_t i = 0; i < doc["runs"].size(); ++i)
      out.runs.push_back(read_run(doc["runs"][i], "/runs/" + std::to_string(i), base, out.file));
  } catch (const model::ValueError& e) {
    throw model::InputError(out.file, e.pointer(), e.message());
  }
  return out;
}

FitRunsResult fit_runs(const FitRunsRequest& request, const sim::Control& control) {
  FitRunsResult out;
  if (request.runs.empty()) throw model::InputError("fit-runs", "", "no runs to fit");
  std::vector<Run> runs(request.runs.size());
  std::vector<double> given;
  for (const auto& m : request.runs)
    if (m.uncertainty > 0) given.push_back(m.uncertainty);
  const double default_weight = given.empty() ? 1.0 : median(given);
  for (std::size_t i = 0; i < runs.size(); ++i) {
    runs[i].measured = &request.runs[i];
    runs[i].profile = calibration_profile(request.runs[i].scenario);
    runs[i].base = with_profile(request.runs[i].scenario, runs[i].profile ? &*runs[i].profile : nullptr);
    runs[i].weight = request.runs[i].uncertainty > 0 ? request.runs[i].uncertainty : default_weight;
    if (runs[i].profile && runs[i].profile->sustained_fraction)
      out.warnings.push_back(request.runs[i].name + ": its calibration profile " + runs[i].profile->source +
                             " fixes sustained_fraction, which the fit cannot move");
  }
  Evaluator eval{runs, control};
  std::array<bool, kParameters> requested{};
  for (FitParameter p : request.parameters) requested[static_cast<std::size_t>(p)] = true;

  // Runs by GPU kind, in order of first appearance: each kind is its own least-squares problem.
  std::vector<std::string> kinds;
  std::map<std::string, std::vector<int>> by_kind;
  for (std::size_t i = 0; i < runs.size(); ++i) {
    const std::string& gpu = runs[i].base.cluster.gpu.name;
    if (!by_kind.contains(gpu)) kinds.push_back(gpu);
    by_kind[gpu].push_back(static_cast<int>(i));
  }
  std::vector<double> initial_steps(runs.size()), fitted_steps(runs.size()), loo_steps(runs.size(), 0);
  {
    std::vector<std::pair<int, Theta>> batch;
    for (std::size_t i = 0; i < runs.size(); ++i) batch.emplace_back(static_cast<int>(i), Theta{});
    initial_steps = eval.steps(batch, {});  // each run as given
  }
  std::vector<double> loo_errors;
  double squares = 0;
  for (const std::string& gpu : kinds) {
    const std::vector<int>& members = by_kind[gpu];
    const model::Scenario& first = runs[static_cast<std::size_t>(members.front())].base;
    Problem pb;
    pb.runs = members;
    Theta theta{};
    for (FitParameter p : kAll) {
      const auto k = static_cast<std::size_t>(p);
      theta[k] = initial_of(p, first);
      pb.bounds[k] = bounds_of(p, first);
      theta[k] = std::clamp(theta[k], pb.bounds[k].lower, pb.bounds[k].upper);
      if (requested[k]) pb.active[k] = true, pb.free.push_back(static_cast<int>(k));
    }
    std::vector<std::string> why(kParameters);
    // What the runs can tell apart, judged at the starting point: a parameter no run's step time
    // depends on, more parameters than runs, two parameters the runs move alike.
    if (!pb.free.empty()) {
      std::vector<std::pair<int, Theta>> batch;
      for (int run : pb.runs) batch.emplace_back(run, theta);
      const auto t0 = eval.steps(batch, pb.active);
      const auto r0 = residuals_of(runs, pb.runs, t0);
      const auto J = jacobian_at(eval, pb, theta, r0);
      std::vector<int> kept;
      for (std::size_t j = 0; j < pb.free.size(); ++j) {
        const auto k = static_cast<std::size_t>(pb.free[j]);
        double elasticity = 0;  // d ln(step) / d ln(parameter), the largest over the runs
        for (std::size_t i = 0; i < pb.runs.size(); ++i)
          elasticity = std::max(elasticity, std::fabs(J[i][j] * runs[static_cast<std::size_t>(pb.runs[i])].weight * theta[k]));
        if (elasticity < 0.02)
          why[k] = "no run's step time depends on it (largest elasticity " + fixed(elasticity, 3) + ": a 10 % change moves no run by more than " +
                   fixed(10 * elasticity, 2) + " %)";
        else kept.push_back(static_cast<int>(j));
      }
      while (kept.size() >= pb.runs.size() && !kept.empty()) {
        const auto k = static_cast<std::size_t>(pb.free[static_cast<std::size_t>(kept.back())]);
        why[k] = std::to_string(pb.runs.size()) + " run(s) cannot identify " + std::to_string(kept.size()) + " parameters";
        kept.pop_back();
      }
      // Correlation of the kept parameters' estimates; the later of a pair moving alike is dropped.
      for (bool dropped = true; dropped && kept.size() > 1;) {
        dropped = false;
        std::vector<std::vector<double>> Jk(pb.runs.size());
        for (std::size_t i = 0; i < pb.runs.size(); ++i)
          for (int j : kept) Jk[i].push_back(J[i][static_cast<std::size_t>(j)]);
        const auto cov = inverse(normal_matrix(Jk, kept.size()));
        for (std::size_t a = 0; a < kept.size() && !dropped; ++a)
          for (std::size_t b = a + 1; b < kept.size() && !dropped; ++b) {
            const double corr = cov[a][b] / std::sqrt(cov[a][a] * cov[b][b]);
            if (!std::isfinite(corr) || std::fabs(corr) > 0.95) {
              const auto ka = static_cast<std::size_t>(pb.free[static_cast<std::size_t>(kept[a])]);
              const auto kb = static_cast<std::size_t>(pb.free[static_cast<std::size_t>(kept[b])]);
              why[kb] = "the runs cannot tell it from " + std::string(to_string(kAll[ka])) + " (correlation " +
                        (std::isfinite(corr) ? fixed(corr, 3) : std::string("1")) + ")";
              kept.erase(kept.begin() + static_cast<std::ptrdiff_t>(b));
              dropped = true;
            }
          }
      }
      std::vector<int> free;
      for (int j : kept) free.push_back(pb.free[static_cast<std::size_t>(j)]);
      pb.free = free;
    }
    // Fit; a parameter the fitted runs pin only loosely (one sigma above a quarter of its value)
    // is not identified either: it is held and the rest refitted.
    Solution fit;
    std::vector<double> sigma(kParameters, std::numeric_limits<double>::quiet_NaN());
    const std::size_t n = pb.runs.size();
    while (true) {
      fit = least_squares(eval, pb, theta, control, "fitting " + gpu);
      const std::size_t p = pb.free.size();
      // Covariance of the estimates: s^2 (J^T J)^-1, s^2 the residual variance (with given
      // uncertainties, at least 1: the spread of the runs about the model may exceed them).
      std::fill(sigma.begin(), sigma.end(), std::numeric_limits<double>::quiet_NaN());
      if (p == 0 || n <= p) break;
      double s2 = fit.cost / double(n - p);
      if (!given.empty()) s2 = std::max(1.0, s2);
      const auto cov = inverse(normal_matrix(fit.jacobian, p));
      std::size_t loosest = p;
      double worst = 0.25;
      for (std::size_t a = 0; a < p; ++a) {
        const auto k = static_cast<std::size_t>(pb.free[a]);
        sigma[k] = std::sqrt(std::max(0.0, s2 * cov[a][a]));
        if (!(sigma[k] <= worst * fit.theta[k])) worst = sigma[k] / fit.theta[k], loosest = a;
      }
      if (loosest == p || p == 1) break;
      const auto k = static_cast<std::size_t>(pb.free[loosest]);
      why[k] = "the runs pin it only to +-" + fixed(sigma[k], 3) + " (one sigma) around " + fixed(fit.theta[k], 3);
      pb.free.erase(pb.free.begin() + static_cast<std::ptrdiff_t>(loosest));
    }
    const std::size_t p = pb.free.size();
    model::CalibrationProfile profile;
    profile.gpu_name = gpu;
    profile.backend = "fit-runs";
    json report_params = json::array();
    for (FitParameter param : request.parameters) {
      const auto k = static_cast<std::size_t>(param);
      FittedParameter f;
      f.gpu = gpu;
      f.parameter = param;
      f.key = key_of(param);
      f.initial = theta[k];
      f.value = fit.theta[k];
      f.lower = pb.bounds[k].lower;
      f.upper = pb.bounds[k].upper;
      f.identified = why[k].empty();
      f.sigma = f.identified ? sigma[k] : 0;
      f.at_bound = f.identified && (f.value <= f.lower + 1e-9 || f.value >= f.upper - 1e-9);
      if (!f.identified)
        out.warnings.push_back(std::string(to_string(param)) + " (" + gpu + ") cannot be identified: " + why[k] + "; kept at " +
                               fixed(f.initial, 3) + " and left out of the profile");
      if (f.at_bound)
        out.warnings.push_back(std::string(to_string(param)) + " (" + gpu + ") stopped at its physical bound " + fixed(f.value, 3) +
                               ": the runs ask for a value the model's physics does not allow");
      if (f.identified && !std::isfinite(f.sigma))
        out.warnings.push_back(std::string(to_string(param)) + " (" + gpu + "): " + std::to_string(n) + " run(s) for " +
                               std::to_string(p) + " parameter(s) leave no degree of freedom; no uncertainty");
      if (f.identified) {
        if (param == FitParameter::sustained) profile.sustained_fraction = f.value;
        if (param == FitParameter::attention) {
          profile.attention_fwd_efficiency = first.cluster.gpu.efficiency.attention_fwd * f.value;
          profile.attention_bwd_efficiency = first.cluster.gpu.efficiency.attention_bwd * f.value;
        }
        if (param == FitParameter::network) profile.nic_efficiency = f.value;
      }
      report_params.push_back({{"parameter", to_string(param)}, {"key", f.key}, {"identified", f.identified},
                               {"value", f.value}, {"sigma", std::isfinite(f.sigma) ? json(f.sigma) : json()},
                               {"lower", f.lower}, {"upper", f.upper}});
      out.parameters.push_back(f);
    }
    for (std::size_t i = 0; i < n; ++i) {
      fitted_steps[static_cast<std::size_t>(pb.runs[i])] = fit.steps[i];
      const double r = fit.residuals[i] * runs[static_cast<std::size_t>(pb.runs[i])].weight;
      squares += r * r;
    }
    // Leave one out: fit without each run (from the full fit) and predict it.
    if (request.leave_one_out && n > std::max<std::size_t>(p, 1)) {
      for (std::size_t left = 0; left < n; ++left) {
        if (control.progress) control.progress("leave-one-out " + gpu, static_cast<int>(left), static_cast<int>(n));
        Problem sub = pb;
        sub.runs.erase(sub.runs.begin() + static_cast<std::ptrdiff_t>(left));
        const Solution s = least_squares(eval, sub, fit.theta, {{}, control.stop}, "");
        const int run = pb.runs[left];
        loo_steps[static_cast<std::size_t>(run)] = eval.steps({{run, s.theta}}, pb.active).front();
        const Run& rr = runs[static_cast<std::size_t>(run)];
        loo_errors.push_back(std::fabs(rr.measured->step_time_s / loo_steps[static_cast<std::size_t>(run)] - 1));
      }
    } else if (request.leave_one_out) {
      out.warnings.push_back(gpu + ": " + std::to_string(n) + " run(s) are too few to leave one out");
    }
    json report_runs = json::array();
    for (int run : pb.runs) {
      const auto i = static_cast<std::size_t>(run);
      json e{{"name", request.runs[i].name},
             {"measured_s", request.runs[i].step_time_s},
             {"fitted_s", fitted_steps[i]},
             {"error", request.runs[i].step_time_s / fitted_steps[i] - 1}};
      if (loo_steps[i] > 0) e["leave_one_out_error"] = request.runs[i].step_time_s / loo_steps[i] - 1;
      report_runs.push_back(e);
    }
    profile.measured_on = {{"runs", static_cast<int>(n)}};
    if (!request.description.empty()) profile.measured_on["description"] = request.description;
    profile.report["fit_runs"] = {{"parameters", report_params}, {"runs", report_runs}};
    out.profiles[gpu] = std::move(profile);
  }
  for (std::size_t i = 0; i < runs.size(); ++i) {
    RunFit f;
    f.name = request.runs[i].name;
    f.gpu = runs[i].base.cluster.gpu.name;
    f.measured_s = request.runs[i].step_time_s;
    f.initial_s = initial_steps[i];
    f.fitted_s = fitted_steps[i];
    f.loo_s = loo_steps[i];
    out.runs.push_back(f);
  }
  out.rms_residual = std::sqrt(squares / double(runs.size()));
  if (!loo_errors.empty()) {
    double sum = 0;
    for (double e : loo_errors) sum += e;
    out.loo_mean_abs_error = sum / double(loo_errors.size());
  }
  out.simulations = eval.simulations;
  return out;
}

json to_json(const FitRunsResult& r) {
  json params = json::array();
  for (const auto& p : r.parameters)
    params.push_back({{"gpu", p.gpu},
                      {"parameter", to_string(p.parameter)},
                      {"key", p.key},
                      {"identified", p.identified},
                      {"initial", p.initial},
                      {"value", p.value},
                      {"sigma", std::isfinite(p.sigma) ? json(p.sigma) : json()},
                      {"lower", p.lower},
                      {"upper", p.upper},
                      {"at_bound", p.at_bound}});
  json runs = json::array();
  for (const auto& f : r.runs) {
    json e{{"name", f.name},
           {"gpu", f.gpu},
           {"measured_s", f.measured_s},
           {"initial_s", f.initial_s},
           {"fitted_s", f.fitted_s},
           {"initial_error", f.initial_error()},
           {"fitted_error", f.fitted_error()}};
    if (f.loo_s > 0) e["loo_s"] = f.loo_s, e["loo_error"] = f.loo_error();
    runs.push_back(e);
  }
  return {{"parameters", params},     {"runs", runs},
          {"warnings", r.warnings},   {"simulations", r.simulations},
          {"rms_residual", r.rms_residual}, {"loo_mean_abs_error", r.loo_mean_abs_error}};
}

}  // namespace herd::app
