// The pieces of data-parallel training that need no model: who a process is (ProcessGroup), the
// TCP rendezvous, the host communicator's sums and the gradient exchange. The ranks are threads
// of this test, each with its own sockets, on 127.0.0.1. Whole runs over several processes are
// in tests/tools/cli_train_distributed_test.cpp.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <exception>
#include <filesystem>
#include <map>
#include <thread>

#include "ops/ops.h"
#include "support/tensor_testing.h"
#include "support/training_runs.h"
#include "train/distributed/communicator.h"
#include "train/distributed/gradient_sync.h"
#include "train/distributed/launcher.h"

namespace vg::train {
namespace {

using Env = std::map<std::string, std::string>;

ProcessGroup from(const Env& env) {
  return ProcessGroup::from_env([&](const char* name) -> const char* {
    auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  });
}

ProcessGroup group(int rank, int size, int port) {
  ProcessGroup g;
  g.rank = rank;
  g.size = size;
  g.local_rank = rank;
  g.master_port = port;
  g.connect_timeout_s = 20;
  g.collective_timeout_s = 20;
  return g;
}

// Runs fn(rank) for every rank on a thread of its own; returns each rank's error message ("" when
// it returned).
std::vector<std::string> on_ranks(int size, const std::function<void(int)>& fn) {
  std::vector<std::string> errors(static_cast<size_t>(size));
  std::vector<std::thread> threads;
  for (int r = 0; r < size; ++r) {
    threads.emplace_back([&, r] {
      try {
        fn(r);
      } catch (const std::exception& e) {
        errors[static_cast<size_t>(r)] = e.what();
        if (errors[static_cast<size_t>(r)].empty()) errors[static_cast<size_t>(r)] = "(empty error)";
      }
    });
  }
  for (std::thread& t : threads) t.join();
  return errors;
}

void expect_no_errors(const std::vector<std::string>& errors) {
  for (size_t r = 0; r < errors.size(); ++r) EXPECT_EQ(errors[r], "") << "rank " << r;
}

// ---- ProcessGroup ----

TEST(ProcessGroup, NothingSetIsOneProcess) {
  const ProcessGroup g = from({});
  EXPECT_EQ(g.rank, 0);
  EXPECT_EQ(g.size, 1);
  EXPECT_FALSE(g.distributed());
  EXPECT_EQ(g.master_addr, "127.0.0.1");
  EXPECT_EQ(g.master_port, 29517);
}

TEST(ProcessGroup, ReadsOurOpenMpisAndPmisVariables) {
  ProcessGroup g = from({{"VG_RANK", "1"},
                         {"VG_WORLD_SIZE", "2"},
                         {"VG_LOCAL_RANK", "1"},
                         {"VG_MASTER_ADDR", "10.0.0.2"},
                         {"VG_MASTER_PORT", "4000"},
                         {"OMPI_COMM_WORLD_RANK", "0"},
                         {"OMPI_COMM_WORLD_SIZE", "8"}});
  EXPECT_EQ(g.rank, 1);  // our own variables win over mpirun's
  EXPECT_EQ(g.size, 2);
  EXPECT_EQ(g.local_rank, 1);
  EXPECT_EQ(g.master_addr, "10.0.0.2");
  EXPECT_EQ(g.master_port, 4000);
  EXPECT_TRUE(g.distributed());

  g = from({{"OMPI_COMM_WORLD_RANK", "5"}, {"OMPI_COMM_WORLD_SIZE", "8"}, {"OMPI_COMM_WORLD_LOCAL_RANK", "1"}});
  EXPECT_EQ(g.rank, 5);
  EXPECT_EQ(g.size, 8);
  EXPECT_EQ(g.local_rank, 1);

  g = from({{"PMI_RANK", "3"}, {"PMI_SIZE", "4"}, {"MPI_LOCALRANKID", "1"}, {"VG_DIST_TIMEOUT", "2.5"}});
  EXPECT_EQ(g.rank, 3);
  EXPECT_EQ(g.local_rank, 1);
  EXPECT_EQ(g.collective_timeout_s, 2.5);
  g = from({{"PMI_RANK", "3"}, {"PMI_SIZE", "4"}});
  EXPECT_EQ(g.local_rank, 3);  // no local rank anywhere: one machine
}

TEST(ProcessGroup, BadValuesAreErrorsNamingTheVariable) {
  testing::expect_error(
      [] {
        from({{"VG_RANK", "2"}, {"VG_WORLD_SIZE", "2"}});
      },
      {"[train]", "VG_RANK=2", "VG_WORLD_SIZE=2"});
  testing::expect_error([] { from({{"VG_RANK", "one"}, {"VG_WORLD_SIZE", "2"}}); }, {"[train]", "VG_RANK=one"});
  testing::expect_error([] { from({{"VG_RANK", "1"}}); }, {"[train]", "VG_RANK is set but VG_WORLD_SIZE is not"});
  testing::expect_error(
      [] {
        from({{"OMPI_COMM_WORLD_SIZE", "0"}, {"OMPI_COMM_WORLD_RANK", "0"}});
      },
      {"[train]", "OMPI_COMM_WORLD_SIZE=0"});
  testing::expect_error(
      [] {
        from({{"VG_RANK", "0"}, {"VG_WORLD_SIZE", "2"}, {"VG_LOCAL_RANK", "-1"}});
      },
      {"[train]", "VG_LOCAL_RANK=-1"});
  testing::expect_error([] { from({{"VG_MASTER_PORT", "70000"}}); }, {"[train]", "VG_MASTER_PORT=70000"});
  testing::expect_error([] { from({{"VG_MASTER_PORT", "80x"}}); }, {"[train]", "VG_MASTER_PORT=80x"});
  testing::expect_error([] { from({{"VG_DIST_TIMEOUT", "-1"}}); }, {"[train]", "VG_DIST_TIMEOUT=-1"});
}

// ---- Rendezvous ----

TEST(Rendezvous, BroadcastGatherAndBarrierOverThreeRanks) {
  const int port = testing::free_local_port();
  expect_no_errors(on_ranks(3, [&](int rank) {
    std::unique_ptr<Rendezvous> r = Rendezvous::connect(group(rank, 3, port));
    std::string bytes = rank == 0 ? std::string("from rank 0\0with a zero", 23) : "mine";
    r->broadcast(bytes);
    EXPECT_EQ(bytes, std::string("from rank 0\0with a zero", 23));
    std::string big(3 << 20, static_cast<char>('a' + rank));  // more than a socket buffer holds
    const std::vector<std::string> all = r->gather(big);
    if (rank == 0) {
      ASSERT_EQ(all.size(), 3u);
      for (int k = 0; k < 3; ++k)
        EXPECT_EQ(all[static_cast<size_t>(k)], std::string(3 << 20, static_cast<char>('a' + k)));
    } else {
      EXPECT_TRUE(all.empty());
    }
    for (int i = 0; i < 5; ++i) r->barrier();
  }));
}

TEST(Rendezvous, AGroupOfOneOpensNothing) {
  std::unique_ptr<Rendezvous> r = Rendezvous::connect(group(0, 1, 1));  // port 1 is never opened
  std::string bytes = "x";
  r->broadcast(bytes);
  EXPECT_EQ(r->gather("y"), std::vector<std::string>{"y"});
  r->barrier();
}

TEST(Rendezvous, APeerThatExitsIsAnErrorNotAHang) {
  const int port = testing::free_local_port();
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::string> errors = on_ranks(2, [&](int rank) {
    std::unique_ptr<Rendezvous> r = Rendezvous::connect(group(rank, 2, port));
    r->barrier();
    if (rank == 1) return;  // "exits": its sockets close
    r->gather("waiting for rank 1");
  });
  EXPECT_EQ(errors[1], "");
  EXPECT_NE(errors[0].find("[train] rendezvous: rank 0 lost rank 1: the connection closed"), std::string::npos)
      << errors[0];
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

TEST(Rendezvous, RankZeroExitingStopsTheOthers) {
  const int port = testing::free_local_port();
  std::vector<std::string> errors = on_ranks(3, [&](int rank) {
    std::unique_ptr<Rendezvous> r = Rendezvous::connect(group(rank, 3, port));
    if (rank == 0) return;
    r->barrier();
  });
  EXPECT_NE(errors[1].find("rank 1 lost rank 0"), std::string::npos) << errors[1];
  EXPECT_NE(errors[2].find("rank 2 lost rank 0"), std::string::npos) << errors[2];
}

TEST(Rendezvous, ASilentPeerTimesOut) {
  const int port = testing::free_local_port();
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::string> errors = on_ranks(2, [&](int rank) {
    ProcessGroup g = group(rank, 2, port);
    g.collective_timeout_s = 0.3;
    std::unique_ptr<Rendezvous> r = Rendezvous::connect(g);
    if (rank == 1) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // alive, but says nothing
      return;
    }
    r->barrier();
  });
  EXPECT_NE(errors[0].find("rank 0 lost rank 1: timed out after 0.3 s (VG_DIST_TIMEOUT)"), std::string::npos)
      << errors[0];
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

TEST(Rendezvous, NoRankZeroIsAnErrorNamingTheAddress) {
  const int port = testing::free_local_port();
  ProcessGroup g = group(1, 2, port);
  g.connect_timeout_s = 0.5;
  testing::expect_error(
      [&] { Rendezvous::connect(g); },
      {"[train] rendezvous: rank 1 cannot reach rank 0 at 127.0.0.1:" + std::to_string(port), "VG_MASTER_ADDR"});
}

TEST(Rendezvous, RankZeroNamesTheRanksThatNeverCame) {
  ProcessGroup g = group(0, 3, testing::free_local_port());
  g.connect_timeout_s = 0.5;
  testing::expect_error([&] { Rendezvous::connect(g); }, {"[train] rendezvous: rank 0 waited", "rank(s) 1, 2 of 3"});
}

TEST(Rendezvous, ABusyPortIsNamed) {
  const testing::HeldLocalPort held;
  testing::expect_error([&] { Rendezvous::connect(group(0, 2, held.port())); },
                        {"rank 0 cannot listen on 127.0.0.1:" + std::to_string(held.port()), "VG_MASTER_PORT"});
}

TEST(Rendezvous, RanksOutOfStepFailInsteadOfMixingMessages) {
  const int port = testing::free_local_port();
  std::vector<std::string> errors = on_ranks(2, [&](int rank) {
    std::unique_ptr<Rendezvous> r = Rendezvous::connect(group(rank, 2, port));
    std::string bytes = "x";
    if (rank == 0) {
      r->broadcast(bytes);
      r->gather(bytes);
    } else {
      r->gather(bytes);
      r->broadcast(bytes);
    }
  });
  EXPECT_NE(errors[0].find("out of step"), std::string::npos) << errors[0];
  EXPECT_NE(errors[1].find("out of step"), std::string::npos) << errors[1];
}

// ---- the host communicator ----

TEST(HostCommunicator, SumsAreTheSameBitsOnEveryRankAddedInRankOrder) {
  constexpr int kRanks = 3;
  const int port = testing::free_local_port();
  // Each rank's tensors, values of very different sizes so that the order of the additions shows.
  auto values = [](int rank, int64_t n, uint64_t salt) {
    Generator gen(salt * 10 + static_cast<uint64_t>(rank));
    return mul(randn({n}, gen), std::pow(1e3, rank));
  };
  std::vector<std::vector<Tensor>> results(kRanks);
  std::vector<std::vector<double>> numbers(kRanks);
  expect_no_errors(on_ranks(kRanks, [&](int rank) {
    std::unique_ptr<Communicator> c = make_communicator(group(rank, kRanks, port), Device::cpu());
    EXPECT_EQ(c->rank(), rank);
    EXPECT_EQ(c->size(), kRanks);
    std::vector<Tensor> tensors = {values(rank, 1001, 1).contiguous(), values(rank, 7, 2).to(DType::F64).contiguous(),
                                   values(rank, 0, 3)};
    c->all_reduce_sum(tensors);
    results[static_cast<size_t>(rank)] = tensors;
    // 1e16, -1e16 and 1 sum to 1 in rank order only ((1e16 + 1) + -1e16 is 0).
    std::vector<double> v = {0.1 * rank, rank == 0 ? 1e16 : (rank == 1 ? -1e16 : 1.0), 1.0};
    c->all_reduce_sum(v);
    numbers[static_cast<size_t>(rank)] = v;
    std::vector<double> two{2.0};
    c->all_reduce_sum(two);
    EXPECT_EQ(two[0], 2.0 * kRanks);
  }));
  for (size_t t = 0; t < 3; ++t) {
    // ((t0 + t1) + t2) in the tensor's own dtype, computed here.
    std::vector<double> want;
    for (int r = 0; r < kRanks; ++r) {
      Tensor x = values(r, results[0][t].numel(), t + 1);
      std::vector<double> xs = t == 1 ? x.to(DType::F64).to_vector<double>() : x.to_vector<double>();
      for (size_t i = 0; i < xs.size(); ++i) {
        if (r == 0) {
          want.push_back(xs[i]);
        } else if (t == 1) {
          want[i] += xs[i];
        } else {
          want[i] = static_cast<float>(static_cast<float>(want[i]) + static_cast<float>(xs[i]));
        }
      }
    }
    for (int r = 0; r < kRanks; ++r) {
      EXPECT_EQ(results[static_cast<size_t>(r)][t].to_vector<double>(), want) << "tensor " << t << " on rank " << r;
    }
  }
  for (int r = 0; r < kRanks; ++r)
    EXPECT_EQ(numbers[static_cast<size_t>(r)], (std::vector<double>{(0.0 + 0.1) + 0.2, 1.0, 3.0}));
}

TEST(HostCommunicator, RanksPassingOtherTensorsFail) {
  const int port = testing::free_local_port();
  std::vector<std::string> errors = on_ranks(2, [&](int rank) {
    ProcessGroup g = group(rank, 2, port);
    g.collective_timeout_s = 2;
    std::unique_ptr<Communicator> c = make_communicator(g, Device::cpu());
    std::vector<Tensor> tensors = {zeros({rank == 0 ? 3 : 4})};
    c->all_reduce_sum(tensors);
  });
  EXPECT_NE(errors[0].find("rank 1 sums other tensors than rank 0: f32[4]  against f32[3]"), std::string::npos)
      << errors[0];
  EXPECT_NE(errors[1].find("lost rank 0"), std::string::npos) << errors[1];
}

// ---- gradients ----

TEST(GradientSync, GradientsAreSummedAndMissingOnesAreZerosOnlyWhereAnotherRankHasOne) {
  const int port = testing::free_local_port();
  std::vector<std::vector<Tensor>> grads(2);
  std::vector<std::vector<double>> host(2);
  expect_no_errors(on_ranks(2, [&](int rank) {
    std::unique_ptr<Communicator> c = make_communicator(group(rank, 2, port), Device::cpu());
    std::vector<NamedParameter> params;
    for (const char* name : {"both", "rank0", "none"}) {
      Tensor p = zeros({2, 3});
      p.set_requires_grad(true);
      params.push_back({name, p});
    }
    auto set_grad = [](const Tensor& p, double v) { p.impl()->grad = full({2, 3}, v).impl_ptr(); };
    set_grad(params[0].tensor, 1.5 + rank);
    if (rank == 0) set_grad(params[1].tensor, 4);
    ParamGroup g;
    g.params = params;
    std::vector<double> sums{1.0 + rank, 10.0};  // summed in the same exchange
    all_reduce_gradients(*c, {g}, sums);
    host[static_cast<size_t>(rank)] = sums;
    for (const NamedParameter& p : params) grads[static_cast<size_t>(rank)].push_back(p.tensor.grad());
  }));
  for (int r = 0; r < 2; ++r) {
    const std::vector<Tensor>& g = grads[static_cast<size_t>(r)];
    ASSERT_TRUE(g[0].defined());
    EXPECT_EQ(g[0].to_vector<float>(), std::vector<float>(6, 4.0f)) << r;  // 1.5 + 2.5
    ASSERT_TRUE(g[1].defined());
    EXPECT_EQ(g[1].to_vector<float>(), std::vector<float>(6, 4.0f)) << r;  // 4 + zeros
    EXPECT_FALSE(g[2].defined()) << r;                                     // as in one process: AdamW leaves it alone
    EXPECT_EQ(host[static_cast<size_t>(r)], (std::vector<double>{3.0, 20.0})) << r;
  }
}

TEST(GradientSync, EveryRankStartsFromRankZerosWeights) {
  const int port = testing::free_local_port();
  std::vector<std::vector<float>> after(2);
  expect_no_errors(on_ranks(2, [&](int rank) {
    std::unique_ptr<Communicator> c = make_communicator(group(rank, 2, port), Device::cpu());
    Tensor w = full({4}, rank == 0 ? -0.25 : 7.0);
    w.set_requires_grad(true);
    copy_from_rank0(*c, {{"w", w}});
    after[static_cast<size_t>(rank)] = w.to_vector<float>();
  }));
  EXPECT_EQ(after[0], std::vector<float>(4, -0.25f));
  EXPECT_EQ(after[1], std::vector<float>(4, -0.25f));
}

// ---- the launcher's command line ----

TEST(Launcher, TheRanksCommandLineDropsGpus) {
  const std::vector<std::string> args = {"videogemma", "--threads", "2", "train", "--gpus", "2", "--config", "c.json"};
  EXPECT_EQ(without_option(args, "--gpus"),
            (std::vector<std::string>{"videogemma", "--threads", "2", "train", "--config", "c.json"}));
  EXPECT_EQ(without_option({"videogemma", "train", "--gpus=4", "--json"}, "--gpus"),
            (std::vector<std::string>{"videogemma", "train", "--json"}));
  // This test binary's own command line: argv[0] names it.
  const std::vector<std::string> own = own_command_line();
  ASSERT_FALSE(own.empty());
  EXPECT_EQ(std::filesystem::path(own[0]).filename(), std::filesystem::read_symlink("/proc/self/exe").filename());
}

}  // namespace
}  // namespace vg::train
