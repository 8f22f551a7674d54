#pragma once
// The mapping between time and pixels of a timeline, and its zoom and pan: a pure class, tested
// without a display. Times are seconds from the start of what is shown (a step, a run).
#include <initializer_list>
#include <string>
#include <vector>

namespace herd::gui {

class TimeAxis {
 public:
  /// Shows [0, limit_s] on `width_px` pixels. `limit_s` <= 0 becomes 1 s.
  TimeAxis(double limit_s = 1, int width_px = 1000);

  double start_s() const { return start_s_; }
  double end_s() const { return end_s_; }
  double span_s() const { return end_s_ - start_s_; }
  double limit_s() const { return limit_s_; }
  int width_px() const { return width_px_; }
  double seconds_per_px() const { return span_s() / width_px_; }

  double x_of(double t_s) const { return (t_s - start_s_) / seconds_per_px(); }
  double t_of(double x_px) const { return start_s_ + x_px * seconds_per_px(); }

  /// A new total length: the whole of it is shown.
  void reset(double limit_s);
  void set_width(int width_px);
  /// Shows [start, end], clamped to [0, limit] and to at least the narrowest span (1 ns per 10 px).
  void show(double start_s, double end_s);
  /// Multiplies the visible span by `factor` (< 1 zooms in) keeping the time under `anchor_px` fixed.
  void zoom(double factor, double anchor_px);
  /// Moves the view by `dx_px` pixels (positive: later times come into view).
  void pan(double dx_px);

  struct Tick {
    double t_s;
    std::string label;
  };
  /// Ticks at 1, 2 or 5 x 10^k seconds (or minutes, hours, days when the span is long), at least
  /// `min_gap_px` apart, labelled with their unit ("250 µs", "1.5 ms", "3 d").
  std::vector<Tick> ticks(double min_gap_px = 90) const;

 private:
  double limit_s_ = 1, start_s_ = 0, end_s_ = 1;
  int width_px_ = 1000;
};

/// A duration in the unit that suits `magnitude_s` (else `scale_s`, else the value itself), with
/// the decimals that tell values `scale_s` apart (three significant digits without a scale):
/// "750 ns", "12.5 µs", "3.25 ms", "1.2 s", "45 min", "2.5 h", "12.3 d".
std::string format_duration(double seconds, double scale_s = 0, double magnitude_s = 0);

/// The least of m x 10^k (m from `multiples`, ascending, ending at 10) that is at least `min_step`:
/// the step between axis ticks at least `min_step` apart.
double nice_step(double min_step, std::initializer_list<double> multiples);

/// Bytes with binary units: "512 B", "1.5 KiB", "256 MiB", "16 GiB".
std::string format_bytes(double bytes);

}  // namespace herd::gui
