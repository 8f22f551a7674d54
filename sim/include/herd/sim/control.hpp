#pragma once
// How a caller follows and stops long work: a progress callback and a stop token. Every long call
// of herd::sim (a step, a run's Monte Carlo) takes a Control; the application layer passes the
// front end's (a CLI progress line, a GUI progress bar and its Cancel button).
#include <functional>
#include <stdexcept>
#include <stop_token>
#include <string_view>

namespace herd::sim {

/// Progress of long work: what is being done, how much of it, out of how much. Called on the
/// thread that does the work, at most a few times a second's worth of work; may be empty.
using Progress = std::function<void(std::string_view what, int done, int total)>;

struct Control {
  Progress progress;
  std::stop_token stop;  ///< when a stop is requested the call throws Cancelled
};

/// Thrown by a long call whose Control asked it to stop; nothing it would have returned exists.
class Cancelled : public std::runtime_error {
 public:
  Cancelled() : std::runtime_error("herd: stopped before the work was done") {}
};

/// Throws Cancelled when `control` asks to stop.
inline void check_stop(const Control& control) {
  if (control.stop.stop_requested()) throw Cancelled();
}

}  // namespace herd::sim
