#include "autograd/engine.h"

#include <queue>
#include <unordered_map>

#include "autograd/grad_mode.h"
#include "autograd/node.h"
#include "ops/ops.h"

namespace vg::autograd {
namespace {

struct NodeState {
  int dependencies = 0;       // edges from not-yet-run nodes of this graph
  std::vector<Tensor> grads;  // summed gradient per output
};

struct LaterFirst {
  bool operator()(const Node* a, const Node* b) const { return a->sequence_nr < b->sequence_nr; }
};

void accumulate_into(NodeState& state, int slot, const Tensor& grad) {
  Tensor& acc = state.grads[static_cast<size_t>(slot)];
  acc = acc.defined() ? add(acc, grad) : grad;
}

void check_gradient(const Node& from, const Edge& edge, size_t input, const Tensor& grad) {
  const OutputMeta& meta = edge.node->outputs[static_cast<size_t>(edge.input_nr)];
  VG_CHECK(grad.shape() == meta.shape && grad.dtype() == meta.dtype, "autograd", "backward of '", from.name,
           "' returned a gradient ", grad.describe(), " for input ", input, ", which is ", meta.dtype, meta.shape,
           " (a bug in that op's backward)");
}

}  // namespace

void backward(const std::vector<Tensor>& roots, const std::vector<Tensor>& grads, bool retain_graph) {
  VG_CHECK(roots.size() == grads.size(), "autograd", "backward: ", roots.size(), " roots but ", grads.size(),
           " gradients");
  NoGradGuard no_grad;
  std::unordered_map<Node*, NodeState> states;
  std::vector<std::shared_ptr<Node>> keep_alive;

  // Seed the root gradients.
  std::vector<Node*> seeds;
  for (size_t i = 0; i < roots.size(); ++i) {
    const Tensor& root = roots[i];
    VG_CHECK(root.requires_grad(), "autograd", "backward on a tensor that does not require grad ",
             "(no trainable tensor contributed to it, or it was computed under NoGradGuard)");
    Tensor grad = grads[i];
    if (!grad.defined()) {
      VG_CHECK(root.numel() == 1, "autograd", "backward on ", root.describe(),
               " needs an explicit gradient: only one-element outputs get an implicit gradient of 1");
      grad = ones_like(root);
    }
    VG_CHECK(grad.shape() == root.shape(), "autograd", "backward: gradient ", grad.describe(),
             " does not match the output ", root.describe());
    Edge edge = gradient_edge(root);
    NodeState& state = states[edge.node.get()];
    state.grads.resize(edge.node->outputs.size());
    accumulate_into(state, edge.input_nr, grad);
    seeds.push_back(edge.node.get());
    keep_alive.push_back(edge.node);
  }

  // Count, for every reachable node, the edges that lead into it.
  std::vector<Node*> stack(seeds.begin(), seeds.end());
  std::unordered_map<Node*, bool> visited;
  while (!stack.empty()) {
    Node* node = stack.back();
    stack.pop_back();
    if (visited[node]) continue;
    visited[node] = true;
    for (const Edge& edge : node->next_edges) {
      if (!edge.node) continue;
      NodeState& child = states[edge.node.get()];
      if (child.grads.empty()) child.grads.resize(edge.node->outputs.size());
      ++child.dependencies;
      if (!visited[edge.node.get()]) stack.push_back(edge.node.get());
    }
  }

  std::priority_queue<Node*, std::vector<Node*>, LaterFirst> ready;
  for (Node* seed : seeds) {
    if (states[seed].dependencies == 0 && visited[seed]) {
      ready.push(seed);
      visited[seed] = false;  // reused as "queued" so a seed given twice runs once
    }
  }

  while (!ready.empty()) {
    Node* node = ready.top();
    ready.pop();
    NodeState& state = states[node];
    std::vector<Tensor> grad_outputs = std::move(state.grads);

    bool any_defined = false;
    for (const Tensor& g : grad_outputs) any_defined = any_defined || g.defined();
    std::vector<Tensor> grad_inputs;
    if (any_defined) {
      for (size_t i = 0; i < grad_outputs.size(); ++i) {
        if (!grad_outputs[i].defined()) {
          const OutputMeta& meta = node->outputs[i];
          grad_outputs[i] = zeros(meta.shape, meta.dtype, meta.device);
        }
      }
      grad_inputs = node->apply(grad_outputs);
      VG_CHECK(grad_inputs.empty() || grad_inputs.size() == node->next_edges.size(), "autograd", "backward of '",
               node->name, "' returned ", grad_inputs.size(), " gradients for ", node->next_edges.size(), " inputs");
    }
    if (!retain_graph) node->release();

    for (size_t i = 0; i < node->next_edges.size(); ++i) {
      const Edge& edge = node->next_edges[i];
      if (!edge.node) continue;
      NodeState& child = states[edge.node.get()];
      if (i < grad_inputs.size() && grad_inputs[i].defined()) {
        check_gradient(*node, edge, i, grad_inputs[i]);
        accumulate_into(child, edge.input_nr, grad_inputs[i]);
      }
      if (--child.dependencies == 0) ready.push(edge.node.get());
    }
  }
}

}  // namespace vg::autograd
