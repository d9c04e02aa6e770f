#include "autograd/grad_mode.h"

namespace vg::autograd {
namespace {
thread_local bool t_grad_enabled = true;
thread_local bool t_recomputed = false;
}  // namespace

bool GradMode::enabled() { return t_grad_enabled; }
void GradMode::set_enabled(bool enabled) { t_grad_enabled = enabled; }
bool Recomputed::pending() { return t_recomputed; }
void Recomputed::set_pending(bool pending) { t_recomputed = pending; }

}  // namespace vg::autograd
