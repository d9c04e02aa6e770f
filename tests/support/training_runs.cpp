#include "support/training_runs.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "io/safetensors.h"
#include "support/cuda_conformance.h"
#include "support/tensor_testing.h"

namespace vg::testing {

std::string write_json(const std::string& path, nlohmann::json doc, const nlohmann::json& extra) {
  if (!extra.is_null()) doc.update(extra);  // {} in a call is null
  std::ofstream(path) << doc.dump(1);
  return path;
}

std::string write_stage3_config(const ScratchFolder& dir, const std::string& name, const std::string& model,
                                const std::string& datasets, int accumulation, int max_steps,
                                const nlohmann::json& extra) {
  nlohmann::json config = {{"model", model},
                           {"stage", 3},
                           {"train_data", "QVED_TRAIN"},
                           {"val_data", "QVED_VAL"},
                           {"datasets", datasets},
                           {"output", dir.file(name)},
                           {"max_steps", max_steps},
                           {"batch_size", 2},
                           {"gradient_accumulation", accumulation},
                           {"save_every", 2},
                           {"learning_rate", 2e-3},
                           {"projector_learning_rate", 1e-3},
                           {"lora", {{"r", 4}, {"alpha", 8}, {"dropout", 0.0}}}};
  return write_json(dir.file(name + ".json"), config, extra);
}

train::TrainConfig stage3_config(const std::string& model, const std::string& datasets, const std::string& output,
                                 int64_t steps) {
  train::TrainConfig c;
  c.model = model;
  c.stage = 3;
  c.train_data = "QVED_TRAIN";
  c.val_data = "QVED_VAL";
  c.datasets = datasets;
  c.output = output;
  c.max_steps = steps;
  c.batch_size = 2;
  c.save_every = 2;
  c.learning_rate = 2e-3;
  c.projector_learning_rate = 1e-3;
  c.lora.r = 4;
  c.lora.alpha = 8;
  return c;
}

std::vector<nlohmann::json> train_log(const std::string& output) {
  std::ifstream in(std::filesystem::path(output) / "train_log.jsonl");
  std::vector<nlohmann::json> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
  return lines;
}

void expect_same_tensor_files(const std::string& a_path, const std::string& b_path, double lr) {
  io::SafetensorsFile a = io::SafetensorsFile::open(a_path), b = io::SafetensorsFile::open(b_path);
  ASSERT_EQ(a.tensors().size(), b.tensors().size()) << b_path;
  for (const io::TensorInfo& t : a.tensors()) {
    ASSERT_TRUE(b.contains(t.name)) << b_path << ": " << t.name;
    const Tensor x = a.get(t.name), y = b.get(t.name);
    EXPECT_EQ(y.dtype(), x.dtype()) << b_path << ": " << t.name;
    ASSERT_EQ(y.shape(), x.shape()) << b_path << ": " << t.name;
    if (lr > 0) {
      EXPECT_LE(max_abs_diff(y, x), 4 * lr) << b_path << ": " << t.name;
    }
  }
}

void expect_same_moments(const std::string& a_path, const std::string& b_path, double tol) {
  io::SafetensorsFile a = io::SafetensorsFile::open(a_path), b = io::SafetensorsFile::open(b_path);
  int compared = 0;
  for (const io::TensorInfo& t : a.tensors()) {
    if (!t.name.ends_with(".exp_avg")) continue;
    ASSERT_TRUE(b.contains(t.name)) << b_path << ": " << t.name;
    EXPECT_LE(scaled_error(b.get(t.name), a.get(t.name)), tol) << b_path << ": " << t.name;
    ++compared;
  }
  EXPECT_GT(compared, 0) << a_path << " holds no first moments";
}

HeldLocalPort::HeldLocalPort() {
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  EXPECT_EQ(::listen(fd_, 4), 0);
  EXPECT_EQ(::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len), 0);
  port_ = ntohs(a.sin_port);
}

HeldLocalPort::~HeldLocalPort() { ::close(fd_); }

}  // namespace vg::testing
