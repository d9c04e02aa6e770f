// Registration of the videogemma subcommands. Each lives in its own cmd_<name>.cpp and adds
// itself to the app; its callback runs the command and throws vg::Error on failure.
#pragma once

namespace CLI {
class App;
}

namespace vg::cli {

void add_bench_command(CLI::App& app);
void add_model_bench(CLI::App* bench);  // cmd_bench_model.cpp, under `bench`
void add_inspect_command(CLI::App& app);
void add_info_command(CLI::App& app);
void add_generate_command(CLI::App& app);
void add_score_command(CLI::App& app);
void add_encode_command(CLI::App& app);
void add_tokenize_command(CLI::App& app);
void add_merge_command(CLI::App& app);
void add_train_command(CLI::App& app);
void add_synth_command(CLI::App& app);
void add_eval_command(CLI::App& app);
void add_demo_command(CLI::App& app);

// "videogemma 0.1.0 (cpu: OpenBLAS 0.3.21, cuda: off, nccl: off, media: on)"
const char* version_string();

}  // namespace vg::cli
