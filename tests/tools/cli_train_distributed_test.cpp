// `videogemma train --gpus N` on the CPU (--device cpu: N processes summing through the host
// communicator): two processes accumulating one micro-batch each train exactly as one process
// accumulating two, which is the single-process trainer the other tests check against
// transformers + PEFT. And a rank that fails stops the run with a message naming it.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <filesystem>

#include "io/mapped_file.h"
#include "io/safetensors.h"
#include "support/cli_runner.h"
#include "support/media_fixtures.h"
#include "support/tensor_testing.h"
#include "support/training_runs.h"
#include "support/vlm_fixtures.h"

namespace vg {
namespace {

namespace fs = std::filesystem;
using testing::run_cli;

// Three steps; the runs share a feature cache folder: the first encodes the clips, the ranks of
// the others split the (cached) work and read the rest from the folder.
std::string write_config(const testing::ScratchFolder& dir, const std::string& name, const std::string& model,
                         const std::string& datasets, int accumulation, const std::string& cache = "features") {
  return testing::write_stage3_config(dir, name, model, datasets, accumulation, 3,
                                      {{"feature_cache", dir.file(cache)}});
}

// The run in `other` trained as the one in `one`. The same examples, so the same tokens; the
// losses are means of the same micro-batch losses. Rank 0 adds rank 1's gradients to its own in
// f32, the very addition with which one process's autograd accumulates its second micro-batch into
// its first, and with one thread each the kernels compute the same bits: the runs agree to the
// last bit today. The tolerances leave room for a different order of additions (a few f32
// roundings: 1e-6 relative on losses, 1e-5 on tensors moved by ~lr), nothing more; training
// without the gradient sum misses them by orders of magnitude. Steps before `from` (a resumed
// run's, logged from its checkpoint) are not compared.
void expect_same_run(const testing::ScratchFolder& dir, const std::string& one, const std::string& other,
                     size_t from = 0) {
  const std::vector<nlohmann::json> la = testing::train_log(dir.file(one)), lb = testing::train_log(dir.file(other));
  ASSERT_EQ(la.size(), 3u);
  ASSERT_EQ(lb.size(), 3u) << other;
  for (size_t s = from; s < 3; ++s) {
    EXPECT_EQ(lb[s]["tokens"], la[s]["tokens"]) << other << ", step " << s + 1;
    for (const char* key : {"loss", "grad_norm", "lr"}) {
      const double x = la[s][key].get<double>(), y = lb[s][key].get<double>();
      EXPECT_NEAR(y, x, 1e-6 * std::abs(x)) << other << ": " << key << ", step " << s + 1;
    }
  }
  // The validation loss (at the end) is split over the ranks and summed.
  ASSERT_TRUE(la[2].contains("val_loss"));
  ASSERT_TRUE(lb[2].contains("val_loss")) << other;
  EXPECT_NEAR(lb[2]["val_loss"].get<double>(), la[2]["val_loss"].get<double>(), 1e-6 * la[2]["val_loss"].get<double>());

  for (const char* f : {"adapter/adapter_model.safetensors", "video_projector.safetensors",
                        "image_projector.safetensors", "checkpoints/step-000003/optimizer.safetensors"}) {
    io::SafetensorsFile x = io::SafetensorsFile::open(dir.file(one) + "/" + f);
    io::SafetensorsFile y = io::SafetensorsFile::open(dir.file(other) + "/" + f);
    ASSERT_EQ(x.tensors().size(), y.tensors().size()) << other << "/" << f;
    for (const io::TensorInfo& t : x.tensors()) {
      ASSERT_TRUE(y.contains(t.name)) << other << "/" << f << ": " << t.name;
      EXPECT_ALL_CLOSE(y.get(t.name), x.get(t.name), 1e-5, 1e-7) << other << "/" << f << ": " << t.name;
    }
  }
  // The checkpoint keeps each rank's dropout stream.
  const std::string state = "/checkpoints/step-000003/trainer_state.json";
  const nlohmann::json ranks = nlohmann::json::parse(io::read_text_file(dir.file(other) + state));
  ASSERT_TRUE(ranks.contains("rank_rng")) << other;
  EXPECT_EQ(ranks["rank_rng"].size(), 2u);
  EXPECT_FALSE(nlohmann::json::parse(io::read_text_file(dir.file(one) + state)).contains("rank_rng"));
}

TEST(CliTrainDistributed, TwoCpuProcessesTrainAsOneProcessWithTwiceTheAccumulation) {
  testing::ScratchFolder dir;
  const std::string model = testing::write_tiny_vlm(dir.file("model"), 23);
  const std::string data = testing::write_tiny_qved(dir.file("data"), 10);

  // One thread per process, so that every run's kernels split their work alike.
  const testing::CliRun one = run_cli("--threads 1 train --json --config " + write_config(dir, "one", model, data, 2));
  ASSERT_EQ(one.status, 0) << one.output;

  // --gpus 2 on the CPU: the command starts two ranks itself.
  const testing::CliRun two =
      run_cli("--threads 1 train --json --gpus 2 --device cpu --config " + write_config(dir, "two", model, data, 1));
  ASSERT_EQ(two.status, 0) << two.output;
  size_t results = 0;  // only rank 0 speaks: one result
  for (size_t at = two.output.find("\"steps\""); at != std::string::npos; at = two.output.find("\"steps\"", at + 1))
    ++results;
  EXPECT_EQ(results, 1u) << two.output;
  const nlohmann::json a = testing::last_json(one), b = testing::last_json(two);
  EXPECT_EQ(b["steps"], 3);
  EXPECT_EQ(b["examples"], a["examples"]);
  expect_same_run(dir, "one", "two");

  // Two ranks started as mpirun starts them: Open MPI's variables, no --gpus. With a feature
  // cache of their own, each encodes half of the clips and reads the other half from the folder.
  const std::string config = write_config(dir, "mpi", model, data, 1, "mpi_features");
  const std::string command =
      std::string(VG_BINARY_DIR) + "/videogemma --threads 1 train --quiet --device cpu --config " + config;
  const std::string env = "OMPI_COMM_WORLD_SIZE=2 VG_MASTER_PORT=" + std::to_string(testing::free_local_port()) + " ";
  const std::string script = env + "OMPI_COMM_WORLD_RANK=1 OMPI_COMM_WORLD_LOCAL_RANK=1 " + command + " > " +
                             dir.file("rank1.txt") + " 2>&1 & pid=$!; " + env +
                             "OMPI_COMM_WORLD_RANK=0 OMPI_COMM_WORLD_LOCAL_RANK=0 " + command +
                             " 2>&1; s0=$?; wait $pid; echo status=$s0,$?";
  const std::string output = testing::run_shell(script).output;
  ASSERT_NE(output.find("status=0,0"), std::string::npos) << output << "\nrank 1:\n"
                                                          << io::read_text_file(dir.file("rank1.txt"));
  expect_same_run(dir, "one", "mpi");
  auto files_in = [&](const std::string& folder) {
    const fs::directory_iterator it(dir.file(folder));
    return std::distance(fs::begin(it), fs::end(it));
  };
  EXPECT_EQ(files_in("mpi_features"), files_in("features"));

  // Two ranks accumulating one micro-batch resume one process's run that accumulated two: the
  // checkpoint's global batch is the same (2 x 2), and so is the rest of the run.
  fs::create_directories(dir.file("resumed/checkpoints"));
  fs::copy(dir.file("one/checkpoints/step-000002"), dir.file("resumed/checkpoints/step-000002"));
  const testing::CliRun resumed = run_cli("--threads 1 train --json --gpus 2 --device cpu --config " +
                                          write_config(dir, "resumed", model, data, 1));
  ASSERT_EQ(resumed.status, 0) << resumed.output;
  EXPECT_EQ(testing::last_json(resumed)["resumed_from"], 2);
  expect_same_run(dir, "one", "resumed", 2);
}

TEST(CliTrainDistributed, AFailingRankStopsTheOthersAndIsNamed) {
  testing::ScratchFolder dir;
  // Rank 0 cannot listen on a port this test holds; rank 1, connected to the test's socket
  // instead, would wait a minute for an answer: the launcher must stop it.
  const testing::HeldLocalPort held;
  const std::string config = write_config(dir, "run", dir.file("model.json"), dir.file("datasets.json"), 1);
  const auto start = std::chrono::steady_clock::now();
  const testing::CliRun run = testing::run_shell("VG_MASTER_PORT=" + std::to_string(held.port()) + " " + VG_BINARY_DIR +
                                                 "/videogemma train --gpus 2 --device cpu --config " + config);
  EXPECT_EQ(run.status, 1) << run.output;
  EXPECT_NE(run.output.find("rank 0 cannot listen on 127.0.0.1:"), std::string::npos) << run.output;
  EXPECT_NE(run.output.find("rank 0 of 2 failed (exit status 1"), std::string::npos) << run.output;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(30)) << run.output;
}

TEST(CliTrainDistributed, MoreGpusThanVisibleIsRefusedBeforeStarting) {
  testing::ScratchFolder dir;
  const std::string config = write_config(dir, "run", dir.file("model.json"), dir.file("datasets.json"), 1);
  const testing::CliRun run = run_cli("train --gpus 1000 --device cuda --config " + config);
  EXPECT_EQ(run.status, 1) << run.output;
  EXPECT_NE(run.output.find("[cli] --gpus 1000 but"), std::string::npos) << run.output;
}

}  // namespace
}  // namespace vg
