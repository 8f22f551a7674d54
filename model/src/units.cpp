#include "herd/model/units.hpp"

#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <tuple>
#include <utility>

namespace herd::model {

namespace {

struct Unit {
  std::string_view spelling;
  double factor;
};

constexpr double kKi = 1024.0, kMi = kKi * 1024, kGi = kMi * 1024, kTi = kGi * 1024, kPi = kTi * 1024;

// Spellings are matched exactly (case-sensitive: "Gb" is gigabits, "GB" gigabytes).
constexpr std::array kCountUnits{
    Unit{"", 1}, Unit{"k", 1e3}, Unit{"K", 1e3}, Unit{"M", 1e6}, Unit{"G", 1e9}, Unit{"B", 1e9},
    Unit{"T", 1e12}, Unit{"P", 1e15}, Unit{"Ki", kKi}, Unit{"Mi", kMi}, Unit{"Gi", kGi}, Unit{"Ti", kTi}};
constexpr std::array kByteUnits{
    Unit{"", 1}, Unit{"B", 1}, Unit{"KB", 1e3}, Unit{"kB", 1e3}, Unit{"MB", 1e6}, Unit{"GB", 1e9},
    Unit{"TB", 1e12}, Unit{"PB", 1e15}, Unit{"KiB", kKi}, Unit{"MiB", kMi}, Unit{"GiB", kGi},
    Unit{"TiB", kTi}, Unit{"PiB", kPi}, Unit{"bit", 0.125}, Unit{"Kb", 125}, Unit{"Mb", 125e3},
    Unit{"Gb", 125e6}, Unit{"Tb", 125e9}};
constexpr std::array kTimeUnits{
    Unit{"", 1}, Unit{"ns", 1e-9}, Unit{"us", 1e-6}, Unit{"µs", 1e-6}, Unit{"ms", 1e-3}, Unit{"s", 1},
    Unit{"min", 60}, Unit{"h", 3600}, Unit{"d", 86400}, Unit{"w", 7 * 86400}};
constexpr std::array kFlopPrefixes{
    Unit{"", 1}, Unit{"G", 1e9}, Unit{"T", 1e12}, Unit{"P", 1e15}, Unit{"E", 1e18}};
constexpr std::array kPowerUnits{Unit{"", 1}, Unit{"W", 1}, Unit{"kW", 1e3}, Unit{"MW", 1e6}};
constexpr std::array kRatePer{Unit{"s", 1}, Unit{"min", 60}, Unit{"h", 3600}, Unit{"d", 86400}};

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// Splits "12.5 GiB" into 12.5 and "GiB".
std::optional<std::pair<double, std::string_view>> split_number(std::string_view text) {
  text = trim(text);
  double value = 0;
  const char* first = text.data();
  const char* last = text.data() + text.size();
  if (first != last && *first == '+') ++first;
  auto [ptr, ec] = std::from_chars(first, last, value);
  if (ec != std::errc() || !std::isfinite(value)) return std::nullopt;
  return std::pair{value, trim(std::string_view(ptr, static_cast<std::size_t>(last - ptr)))};
}

template <std::size_t N>
std::optional<double> lookup(const std::array<Unit, N>& units, std::string_view spelling) {
  for (const auto& u : units)
    if (u.spelling == spelling) return u.factor;
  return std::nullopt;
}

bool strip_suffix(std::string_view& s, std::string_view suffix) {
  if (s.size() < suffix.size() || s.substr(s.size() - suffix.size()) != suffix) return false;
  s.remove_suffix(suffix.size());
  return true;
}

std::optional<double> bandwidth_factor(std::string_view unit) {
  if (unit.empty()) return 1.0;
  // "GB/s", "Gb/s", "GBps", "Gbps", "GiB/s"
  if (strip_suffix(unit, "/s") || strip_suffix(unit, "ps")) {
    if (unit.empty()) return std::nullopt;
    return lookup(kByteUnits, unit);
  }
  return std::nullopt;
}

std::optional<double> flop_rate_factor(std::string_view unit) {
  if (unit.empty()) return 1.0;
  for (std::string_view suffix : {"FLOP/s", "FLOPS", "FLOPs", "flop/s", "flops", "Flops", "FLOP/S"}) {
    std::string_view prefix = unit;
    if (strip_suffix(prefix, suffix)) return lookup(kFlopPrefixes, prefix);
  }
  return std::nullopt;
}

std::optional<double> rate_factor(std::string_view unit) {
  if (unit.empty()) return 1.0;
  std::string_view per;
  if (unit.substr(0, 1) == "/") per = trim(unit.substr(1));
  else if (unit.substr(0, 4) == "per ") per = trim(unit.substr(4));
  else return std::nullopt;
  if (per == "hour") per = "h";
  if (per == "day") per = "d";
  if (auto f = lookup(kRatePer, per)) return 1.0 / *f;
  return std::nullopt;
}

std::string with_unit(double value, const char* unit) {
  char buf[64];
  const double mag = std::fabs(value);
  const char* fmt = mag >= 100 ? "%.0f %s" : mag >= 10 ? "%.1f %s" : "%.2f %s";
  std::snprintf(buf, sizeof buf, fmt, value, unit);
  return buf;
}

// Picks the first unit whose threshold the value reaches; `steps` holds (threshold, divisor, unit).
template <std::size_t N>
std::string scaled(double value, const std::array<std::tuple<double, double, const char*>, N>& steps) {
  for (const auto& [threshold, divisor, unit] : steps)
    if (std::fabs(value) >= threshold) return with_unit(value / divisor, unit);
  const auto& [threshold, divisor, unit] = steps.back();
  return with_unit(value / divisor, unit);
}

}  // namespace

std::string_view dimension_name(Dimension d) {
  switch (d) {
    case Dimension::count: return "count";
    case Dimension::bytes: return "size";
    case Dimension::bandwidth: return "bandwidth";
    case Dimension::time: return "duration";
    case Dimension::flop_rate: return "FLOP rate";
    case Dimension::power: return "power";
    case Dimension::rate: return "rate";
  }
  return "quantity";
}

std::string_view dimension_example(Dimension d) {
  switch (d) {
    case Dimension::count: return "\"15.6T\" or 4096";
    case Dimension::bytes: return "\"80 GiB\"";
    case Dimension::bandwidth: return "\"400 Gbps\" or \"50 GB/s\"";
    case Dimension::time: return "\"2.5 us\" or \"54 d\"";
    case Dimension::flop_rate: return "\"989 TFLOP/s\"";
    case Dimension::power: return "\"700 W\"";
    case Dimension::rate: return "\"2e-5 /h\"";
  }
  return "";
}

std::string_view base_unit(Dimension d) {
  switch (d) {
    case Dimension::count: return "";
    case Dimension::bytes: return "B";
    case Dimension::bandwidth: return "B/s";
    case Dimension::time: return "s";
    case Dimension::flop_rate: return "FLOP/s";
    case Dimension::power: return "W";
    case Dimension::rate: return "/s";
  }
  return "";
}

std::optional<double> parse_quantity(std::string_view text, Dimension d) {
  auto parts = split_number(text);
  if (!parts) return std::nullopt;
  auto [value, unit] = *parts;
  std::optional<double> factor;
  switch (d) {
    case Dimension::count: factor = lookup(kCountUnits, unit); break;
    case Dimension::bytes: factor = lookup(kByteUnits, unit); break;
    case Dimension::bandwidth: factor = bandwidth_factor(unit); break;
    case Dimension::time: factor = lookup(kTimeUnits, unit); break;
    case Dimension::flop_rate: factor = flop_rate_factor(unit); break;
    case Dimension::power: factor = lookup(kPowerUnits, unit); break;
    case Dimension::rate: factor = rate_factor(unit); break;
  }
  if (!factor) return std::nullopt;
  return value * *factor;
}

std::string format_bytes(double bytes) {
  static constexpr std::array<std::tuple<double, double, const char*>, 5> steps{
      {{kTi, kTi, "TiB"}, {kGi, kGi, "GiB"}, {kMi, kMi, "MiB"}, {kKi, kKi, "KiB"}, {1, 1, "B"}}};
  return scaled(bytes, steps);
}

std::string format_bandwidth(double bytes_per_s) {
  static constexpr std::array<std::tuple<double, double, const char*>, 4> steps{
      {{1e12, 1e12, "TB/s"}, {1e9, 1e9, "GB/s"}, {1e6, 1e6, "MB/s"}, {1, 1, "B/s"}}};
  return scaled(bytes_per_s, steps);
}

std::string format_time(double s) {
  // Days from 2 d, hours from 2 h, minutes from 2 min: "90 min" reads better than "1.50 h".
  static constexpr std::array<std::tuple<double, double, const char*>, 7> steps{
      {{2 * 86400.0, 86400.0, "d"}, {2 * 3600.0, 3600.0, "h"}, {120.0, 60.0, "min"}, {1, 1, "s"},
       {1e-3, 1e-3, "ms"}, {1e-6, 1e-6, "us"}, {1e-9, 1e-9, "ns"}}};
  if (s == 0) return "0 s";
  return scaled(s, steps);
}

std::string format_flop_rate(double f) {
  static constexpr std::array<std::tuple<double, double, const char*>, 4> steps{
      {{1e15, 1e15, "PFLOP/s"}, {1e12, 1e12, "TFLOP/s"}, {1e9, 1e9, "GFLOP/s"}, {1, 1, "FLOP/s"}}};
  return scaled(f, steps);
}

std::string format_power(double w) {
  static constexpr std::array<std::tuple<double, double, const char*>, 4> steps{
      {{1e9, 1e9, "GW"}, {1e6, 1e6, "MW"}, {1e3, 1e3, "kW"}, {1, 1, "W"}}};
  return scaled(w, steps);
}

std::string format_energy(double j) {
  static constexpr std::array<std::tuple<double, double, const char*>, 5> steps{
      {{3.6e12, 3.6e12, "GWh"}, {3.6e9, 3.6e9, "MWh"}, {3.6e6, 3.6e6, "kWh"}, {3.6e3, 3.6e3, "Wh"}, {1, 1, "J"}}};
  return scaled(j, steps);
}

std::string format_count(double c) {
  static constexpr std::array<std::tuple<double, double, const char*>, 5> steps{
      {{1e12, 1e12, "T"}, {1e9, 1e9, "G"}, {1e6, 1e6, "M"}, {1e3, 1e3, "k"}, {1, 1, ""}}};
  return scaled(c, steps);
}

}  // namespace herd::model
