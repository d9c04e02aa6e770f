// Whether ops record history. Thread-local, on by default; backward runs with it off.
#pragma once

namespace vg::autograd {

class GradMode {
 public:
  static bool enabled();
  static void set_enabled(bool enabled);
};

// Whether the code running now will run again, recording, to compute gradients: the first,
// unrecorded forward of a checkpointed block. Ops that compute differently when nothing records
// (ops/fused.h) take their recording path then, so both runs give the same values.
class Recomputed {
 public:
  static bool pending();
  static void set_pending(bool pending);
};

// Marks a scope as Recomputed::pending().
class RecomputedGuard {
 public:
  RecomputedGuard() : previous_(Recomputed::pending()) { Recomputed::set_pending(true); }
  ~RecomputedGuard() { Recomputed::set_pending(previous_); }
  RecomputedGuard(const RecomputedGuard&) = delete;
  RecomputedGuard& operator=(const RecomputedGuard&) = delete;

 private:
  bool previous_;
};

// Disables recording in a scope (inference, optimizer steps, gradient arithmetic).
class NoGradGuard {
 public:
  NoGradGuard() : previous_(GradMode::enabled()) { GradMode::set_enabled(false); }
  ~NoGradGuard() { GradMode::set_enabled(previous_); }
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

// Re-enables recording in a scope (the recomputation of a checkpointed block).
class EnableGradGuard {
 public:
  EnableGradGuard() : previous_(GradMode::enabled()) { GradMode::set_enabled(true); }
  ~EnableGradGuard() { GradMode::set_enabled(previous_); }
  EnableGradGuard(const EnableGradGuard&) = delete;
  EnableGradGuard& operator=(const EnableGradGuard&) = delete;

 private:
  bool previous_;
};

}  // namespace vg::autograd

namespace vg {
using autograd::NoGradGuard;
}
