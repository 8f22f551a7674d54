#pragma once
// Physical quantities written as strings ("400 Gbps", "80 GiB", "2.5 us") are parsed here and
// nowhere else. Every value is returned in SI base units as a double:
//   bytes, bytes/s, seconds, FLOP/s, watts, events per second, plain counts.
#include <optional>
#include <string>
#include <string_view>

namespace herd::model {

enum class Dimension {
  count,      ///< dimensionless; SI suffixes k M G T P and binary Ki Mi Gi Ti ("15.6T", "16Mi")
  bytes,      ///< B KB MB GB TB PB (powers of 1000), KiB MiB GiB TiB PiB (powers of 1024), bit/Kb/Mb/Gb/Tb
  bandwidth,  ///< bytes/s: "50 GB/s", "50 GBps", "400 Gbps", "400 Gb/s", "100 MiB/s"
  time,       ///< seconds: ns us µs ms s min h d
  flop_rate,  ///< FLOP/s: "989 TFLOP/s", "989 TFLOPS", "1.2 PFLOP/s"
  power,      ///< watts: W kW MW
  rate,       ///< events per second: "2e-5 /h", "3 /d", "0.1 /s"
};

std::string_view dimension_name(Dimension d);
/// An example of a valid spelling, used in error messages ("400 Gbps").
std::string_view dimension_example(Dimension d);
/// The SI unit a bare number of dimension `d` is in: "B", "B/s", "s", "FLOP/s", "W", "/s"; "" for counts.
std::string_view base_unit(Dimension d);

/// Parses "<number> <unit>" (space optional). Returns nullopt when the text is not a quantity of
/// this dimension; never throws. A bare number is accepted and taken in base units.
std::optional<double> parse_quantity(std::string_view text, Dimension d);

/// Human-readable formatting with a fixed number of significant digits.
std::string format_bytes(double bytes);              ///< "75.3 GiB"
std::string format_bandwidth(double bytes_per_s);    ///< "50.0 GB/s"
std::string format_time(double seconds);             ///< "6.31 s", "13.0 us", "3.2 d"
std::string format_flop_rate(double flop_per_s);     ///< "400 TFLOP/s"
std::string format_count(double count);
std::string format_power(double watts);              ///< "700 W", "4.60 kW", "23.1 MW"
std::string format_energy(double joules);            ///< "139 kWh", "21.6 GWh"             ///< "405.9 G", "16.8 M"

}  // namespace herd::model
