#include "train/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/log.h"
#include "core/random.h"
#include "data/registry.h"
#include "io/mapped_file.h"
#include "io/safetensors.h"
#include "ops/ops.h"
#include "train/distributed/communicator.h"
#include "train/distributed/gradient_sync.h"
#include "train/feature_cache.h"
#include "train/lora.h"
#include "train/loss_curve.h"
#include "train/param_groups.h"
#include "train/peft_adapter.h"
#include "train/train_state.h"
#include "train/training_step.h"
#include "vlm/device_choice.h"
#include "vlm/video_language_model.h"

namespace vg::train {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

struct Example {
  std::string media;  // "" for text only
  std::string question;
  std::string answer;
};

VisualParts parts_of(int stage) {
  return stage == 1 ? VisualParts::VideoOnly : stage == 2 ? VisualParts::ImageOnly : VisualParts::Both;
}

std::vector<Example> examples_of(const data::Dataset& d) {
  std::vector<Example> out;
  for (const data::Record& r : d.records) out.push_back({r.media_path, r.question(), r.answer()});
  return out;
}

// What a resumed run must share with the run that wrote the checkpoint. The accumulation is the
// step's micro-batches over all ranks: N ranks accumulating A each train as one process
// accumulating A x N (the same examples, the same sums), so either resumes the other's run.
std::string fingerprint(const TrainConfig& c, int64_t examples, int ranks) {
  return str("stage ", c.stage, "; train ", c.train_data, " (", examples, " examples); batch ", c.batch_size, " x ",
             c.gradient_accumulation * ranks, "; lr ", c.learning_rate, "/", c.projector_learning_rate, "; schedule ",
             c.lr_scheduler, " warmup ", c.warmup_ratio, "; epochs ", c.epochs, " max_steps ", c.max_steps, "; lora r ",
             c.lora.r, " alpha ", c.lora.alpha, " dropout ", c.lora.dropout, "; seed ", c.seed);
}

// The order examples are visited in during `epoch`: a seeded shuffle.
std::vector<int64_t> epoch_order(int64_t n, uint64_t seed, int64_t epoch) {
  std::vector<int64_t> order(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) order[static_cast<size_t>(i)] = i;
  const uint64_t key = seed * 0x9e3779b97f4a7c15ull + static_cast<uint64_t>(epoch) + 1;
  for (int64_t i = n - 1; i > 0; --i) {
    const auto r = philox4x32(key, static_cast<uint64_t>(i));
    const int64_t j = static_cast<int64_t>(uint_to_unit_double(r[0], r[1]) * static_cast<double>(i + 1));
    std::swap(order[static_cast<size_t>(i)], order[static_cast<size_t>(j)]);
  }
  return order;
}

// Rank r's LoRA dropout stream: rank 0 keeps the run's seed (one process draws what rank 0
// draws), the others a seed of their own, so the ranks' masks differ but repeat run after run.
uint64_t rank_seed(uint64_t seed, int rank) { return seed + 0x9e3779b97f4a7c15ull * static_cast<uint64_t>(rank); }

class Run {
 public:
  Run(const TrainConfig& config, const ProgressCallback& progress) : c_(config.resolved()), progress_(progress) {}

  TrainResult go();

 private:
  void load_model_and_data();
  void set_up_trainables();
  void encode_all();
  // One micro-batch's mean answer-token loss (graph kept for backward when training).
  MicroBatchLoss batch_loss(const std::vector<int64_t>& indices, const std::vector<Example>& from);
  double validation_loss();
  void write_outputs(TrainResult& result);
  void log_line(const json& line);
  void report(TrainProgress::Phase phase, int64_t done, int64_t total);
  // Data-parallel: rank 0 writes every file; the others wait for it where it writes.
  bool lead() const { return comm_->rank() == 0; }
  int ranks() const { return comm_->size(); }
  std::optional<std::string> agreed_checkpoint();
  void restore_random_state();
  void save_random_state();

  TrainConfig c_;
  ProgressCallback progress_;
  std::unique_ptr<Communicator> comm_;  // a group of one when the run is a single process
  VlmConfig model_config_;
  std::unique_ptr<VideoLanguageModel> vlm_;
  std::unique_ptr<FeatureCache> cache_;
  std::vector<Example> train_, val_;
  int64_t skipped_records_ = 0;
  models::LoraSet* lora_ = nullptr;
  LoraOptions lora_options_;
  std::vector<NamedParameter> trainable_;
  std::unique_ptr<AdamW> optimizer_;
  std::vector<double> base_lrs_;
  TrainState state_;
  TrainProgress last_;
  Clock::time_point start_ = Clock::now();
};

void Run::report(TrainProgress::Phase phase, int64_t done, int64_t total) {
  last_.phase = phase;
  last_.done = done;
  last_.total = total;
  if (progress_) progress_(last_);
}

void Run::log_line(const json& line) {
  if (!lead()) return;
  std::ofstream out(fs::path(c_.output) / "train_log.jsonl", std::ios::app);
  out << line.dump() << "\n";
}

void Run::load_model_and_data() {
  model_config_ = VlmConfig::load(c_.model);
  if (c_.max_length == 0) c_.max_length = model_config_.max_length;
  // The run's device and dtype override the model config's for this run only: the model.json
  // written at the end keeps the starting config's, so the device stays a choice of each command.
  VlmConfig placed = model_config_;
  if (!c_.device.empty()) placed.device = c_.device;
  if (!c_.dtype.empty()) {
    // A dtype the run's device does not take is named as the training config's.
    (void)parse_compute_dtype(c_.dtype, placed.compute_device(), "train",
                              str(c_.source.empty() ? "the training config" : c_.source, ": \"dtype\""));
    placed.dtype = c_.dtype;
  }
  VlmLoadOptions options;
  options.allow_fresh_projectors = true;
  options.init_seed = c_.seed;
  options.f32_projectors = true;  // AdamW's master copies; LoRA is created in f32 too (lora.h)
  vlm_ = VideoLanguageModel::load(placed, options);
  logging::info("training on ", vlm_->device(), " in ", vlm_->dtype(), " (trainable tensors in f32)");

  data::LoadOptions load;
  load.on_bad_record = c_.bad_records;
  data::Dataset train = data::load_dataset(c_.train_data, c_.datasets, load);
  skipped_records_ = static_cast<int64_t>(train.skipped.size());
  train_ = examples_of(train);
  VG_CHECK(!train_.empty(), "train", c_.train_data, " has no usable records");
  if (!c_.val_data.empty()) {
    data::Dataset val = data::load_dataset(c_.val_data, c_.datasets, load);
    skipped_records_ += static_cast<int64_t>(val.skipped.size());
    val_ = examples_of(val);
    if (c_.eval_samples > 0 && static_cast<int64_t>(val_.size()) > c_.eval_samples)
      val_.resize(static_cast<size_t>(c_.eval_samples));
  }
  for (const std::vector<Example>* set : {&train_, &val_}) {
    for (const Example& e : *set) {
      VG_CHECK(c_.stage == 3 || !e.media.empty(), "train", "stage ", c_.stage,
               " pretrains a projector and needs a video or image in every record; ", c_.train_data,
               " has text-only ones");
    }
  }
}

void Run::set_up_trainables() {
  std::vector<ParameterFamily> families;
  if (c_.stage == 1)
    families.push_back(
        {"video projector", projector_parameters(vlm_->video_projector(), "mm_projector."), c_.learning_rate});
  if (c_.stage == 2) {
    families.push_back(
        {"image projector", projector_parameters(vlm_->image_projector(), "image_mm_projector."), c_.learning_rate});
  }
  if (c_.stage == 3) {
    VG_CHECK(vlm_->lora().empty(), "train", c_.model,
             " already names a LoRA adapter: merge it first (videogemma merge) or start from the base model");
    lora_options_.rank = c_.lora.r;
    lora_options_.alpha = c_.lora.alpha;
    lora_options_.dropout = c_.lora.dropout;
    lora_options_.target_modules = c_.lora.targets;
    Generator gen(c_.seed ^ 0x10a4ull);
    vlm_->lora() = create_lora(vlm_->language_model(), lora_options_, gen);
    families = stage3_families(vlm_->lora(), c_.learning_rate, c_.train_projectors ? &vlm_->video_projector() : nullptr,
                               c_.train_projectors ? &vlm_->image_projector() : nullptr, c_.projector_learning_rate);
  }
  lora_ = &vlm_->lora();
  GroupOptions groups;
  groups.weight_decay = c_.weight_decay;
  optimizer_ = std::make_unique<AdamW>(build_param_groups(families, groups));
  for (size_t g = 0; g < optimizer_->groups().size(); ++g) {
    base_lrs_.push_back(optimizer_->lr(g));
    for (const NamedParameter& p : optimizer_->groups()[g].params) trainable_.push_back(p);
  }
}

void Run::encode_all() {
  cache_ = std::make_unique<FeatureCache>(vlm_->encoder(), parts_of(c_.stage), c_.feature_cache);
  std::vector<std::string> media;
  for (const std::vector<Example>* set : {&train_, &val_}) {
    for (const Example& e : *set) {
      if (!e.media.empty()) media.push_back(e.media);
    }
  }
  std::sort(media.begin(), media.end());
  media.erase(std::unique(media.begin(), media.end()), media.end());
  // Data-parallel with a feature_cache folder: each rank encodes its share into the folder (its
  // files appear whole, by rename) and reads the others' after the barrier. In memory, every
  // rank needs every clip over the epochs, so each encodes all of them.
  const bool share = ranks() > 1 && !c_.feature_cache.empty();
  std::vector<std::string> mine;
  for (size_t i = 0; i < media.size(); ++i) {
    if (!share || static_cast<int>(i % static_cast<size_t>(ranks())) == comm_->rank()) mine.push_back(media[i]);
  }
  for (size_t i = 0; i < mine.size(); ++i) {
    cache_->get(mine[i]);
    report(TrainProgress::Phase::Encoding, static_cast<int64_t>(i + 1), static_cast<int64_t>(mine.size()));
  }
  if (share) comm_->barrier();
}

MicroBatchLoss Run::batch_loss(const std::vector<int64_t>& indices, const std::vector<Example>& from) {
  std::vector<SplicedSequence> sequences;
  SpliceOptions splice;
  splice.max_length = c_.max_length;
  for (int64_t i : indices) {
    const Example& e = from[static_cast<size_t>(i)];
    Tensor visual;
    if (!e.media.empty()) {
      ClipFeatures f = cache_->get(e.media);
      visual = vlm_->encoder().project(f.clip, f.videomamba, parts_of(c_.stage));  // [Nv, H]
    }
    sequences.push_back(vlm_->sequence(visual, e.question, e.answer, splice));
  }
  return micro_batch_loss(vlm_->language_model(), sequences, c_.gradient_checkpointing);
}

double Run::validation_loss() {
  if (val_.empty()) return NAN;
  NoGradGuard no_grad;
  const bool training = lora_->training;
  lora_->training = false;
  // Data-parallel: rank r takes the batches j with j % N == r; the sums are added over the ranks.
  double sum = 0;
  double count = 0;
  const size_t batch = static_cast<size_t>(c_.batch_size), step = batch * static_cast<size_t>(ranks());
  for (size_t at = batch * static_cast<size_t>(comm_->rank()); at < val_.size(); at += step) {
    std::vector<int64_t> indices;
    for (size_t i = at; i < std::min(val_.size(), at + static_cast<size_t>(c_.batch_size)); ++i)
      indices.push_back(static_cast<int64_t>(i));
    const MicroBatchLoss m = batch_loss(indices, val_);
    sum += m.loss.item() * static_cast<double>(m.answers);
    count += static_cast<double>(m.answers);
  }
  lora_->training = training;
  std::vector<double> sums{sum, count};
  comm_->all_reduce_sum(sums);
  return sums[1] > 0 ? sums[0] / sums[1] : NAN;
}

void Run::write_outputs(TrainResult& result) {
  const fs::path out(c_.output);
  result.model_config = (out / "model.json").string();
  if (!lead()) return;
  VlmConfig trained = model_config_;
  auto save_projector = [&](projector::Etp& p, const char* file) {
    io::save_safetensors((out / file).string(), p.state_dict(), {{"format", "pt"}});
    return (out / file).string();
  };
  if (c_.stage == 1 || (c_.stage == 3 && c_.train_projectors))
    trained.video_projector = save_projector(vlm_->video_projector(), "video_projector.safetensors");
  if (c_.stage == 2 || (c_.stage == 3 && c_.train_projectors))
    trained.image_projector = save_projector(vlm_->image_projector(), "image_projector.safetensors");
  // A fresh projector that this stage did not train is saved too, so the next stage starts from
  // the same weights this one saw.
  if (trained.video_projector.empty())
    trained.video_projector = save_projector(vlm_->video_projector(), "video_projector.safetensors");
  if (trained.image_projector.empty())
    trained.image_projector = save_projector(vlm_->image_projector(), "image_projector.safetensors");
  if (c_.stage == 3) {
    write_peft_adapter((out / "adapter").string(), vlm_->lora(),
                       peft_config_for(lora_options_, model_config_.language_model));
    trained.lora = (out / "adapter").string();
  }
  trained.save(result.model_config);

  LossCurve curve;
  for (const HistoryEntry& h : state_.history) {
    if (!h.skipped) curve.train.emplace_back(static_cast<double>(h.step), h.loss);
    if (h.val_loss) curve.val.emplace_back(static_cast<double>(h.step), *h.val_loss);
  }
  write_loss_curve((out / "loss_curve.png").string(), curve);
}

std::optional<std::string> Run::agreed_checkpoint() {
  // Rank 0's choice is every rank's: they must all resume from the same step.
  std::optional<std::string> found = latest_checkpoint(c_.output);
  std::string path = found.value_or("");
  comm_->broadcast(path);
  if (path.empty()) return std::nullopt;
  return path;
}

void Run::restore_random_state() {
  const int rank = comm_->rank();
  Generator::State rng{state_.rng_seed, state_.rng_offset};
  const size_t written_by = std::max<size_t>(state_.rank_rng.size(), 1);
  if (written_by == static_cast<size_t>(ranks())) {
    if (!state_.rank_rng.empty()) {
      const auto& [seed, offset] = state_.rank_rng[static_cast<size_t>(rank)];
      rng = {seed, offset};
    }
  } else {
    // Another number of processes wrote it: the examples and the sums continue as they were,
    // but only rank 0's dropout stream exists; the others start streams of their own.
    if (lead()) {
      logging::warn("the checkpoint was written by ", written_by, " process(es), this run has ", ranks(),
                    ": the same steps follow, but LoRA dropout draws other masks than the first run would have");
    }
    if (rank > 0) rng = {rank_seed(c_.seed, rank) ^ (static_cast<uint64_t>(state_.step) * 0xbf58476d1ce4e5b9ull), 0};
  }
  Generator::default_generator().set_state(rng);
}

void Run::save_random_state() {
  const Generator::State rng = Generator::default_generator().state();
  state_.rng_seed = rng.seed;
  state_.rng_offset = rng.offset;
  if (ranks() == 1) return;
  std::string mine(2 * sizeof(uint64_t), '\0');
  std::memcpy(mine.data(), &rng.seed, sizeof rng.seed);
  std::memcpy(mine.data() + sizeof rng.seed, &rng.offset, sizeof rng.offset);
  const std::vector<std::string> all = comm_->gather(mine);
  state_.rank_rng.clear();
  for (const std::string& bytes : all) {  // rank 0 only: the others get none
    VG_ASSERT(bytes.size() == mine.size());
    std::pair<uint64_t, uint64_t> s;
    std::memcpy(&s.first, bytes.data(), sizeof s.first);
    std::memcpy(&s.second, bytes.data() + sizeof s.first, sizeof s.second);
    state_.rank_rng.push_back(s);
  }
}

TrainResult Run::go() {
  TrainResult result;
  // The ranks meet first, before the slow loading, so that one that cannot reach the others
  // fails within the connect timeout rather than after loading a model.
  const ProcessGroup group = ProcessGroup::from_env();
  std::unique_ptr<Rendezvous> rendezvous = Rendezvous::connect(group);
  if (group.distributed()) {
    logging::info("rank ", group.rank, " of ", group.size, " (", group.source, "), rank 0 at ", group.master_addr, ":",
                  group.master_port);
  }
  std::error_code ec;
  fs::create_directories(c_.output, ec);
  VG_CHECK(!ec, "train", "cannot create the output folder ", c_.output, ": ", ec.message());
  load_model_and_data();
  comm_ = make_communicator(std::move(rendezvous), vlm_->device());
  set_up_trainables();
  result.train_examples = static_cast<int64_t>(train_.size());
  result.skipped_records = skipped_records_;

  // Rank r of N runs micro-batches a * N + r (a < gradient_accumulation) of each step's A x N:
  // the global batch is batch_size x gradient_accumulation x N, and the step equals one
  // process's with accumulation A x N over the same micro-batches (training_step.h).
  const int64_t n = static_cast<int64_t>(train_.size());
  const int64_t per_step = c_.gradient_accumulation * ranks();
  const int64_t micro_per_epoch = (n + c_.batch_size - 1) / c_.batch_size;
  const int64_t steps_per_epoch = (micro_per_epoch + per_step - 1) / per_step;
  const int64_t total_steps = c_.max_steps > 0 ? c_.max_steps : steps_per_epoch * c_.epochs;
  StepSettings settings;
  settings.gradient_accumulation = c_.gradient_accumulation;
  settings.max_grad_norm = c_.max_grad_norm;
  settings.communicator = comm_.get();
  // Built before a checkpoint restores the optimizer's (scheduled) learning rates.
  TrainingStep stepper(*optimizer_, base_lrs_, make_schedule(c_.lr_scheduler, c_.warmup_ratio, total_steps), settings);

  const std::string settings_fingerprint = fingerprint(c_, n, ranks());
  state_.fingerprint = settings_fingerprint;
  if (std::optional<std::string> checkpoint = agreed_checkpoint()) {
    state_ = load_checkpoint(*checkpoint, trainable_, *optimizer_);
    VG_CHECK(state_.fingerprint == settings_fingerprint, "train", c_.output, " holds a run with other settings (",
             state_.fingerprint, "); use another output folder, or delete its checkpoints to start over");
    restore_random_state();
    result.resumed_from = state_.step;
    logging::info("resuming from ", *checkpoint, " at step ", state_.step, " of ", total_steps);
    // The log restarts from the checkpoint's history: lines written after it are gone with the run.
    if (lead()) std::ofstream(fs::path(c_.output) / "train_log.jsonl", std::ios::trunc);
    for (const HistoryEntry& h : state_.history)
      log_line({{"step", h.step}, {"loss", h.loss}, {"lr", h.lr}, {"grad_norm", h.grad_norm}});
  } else {
    if (lead()) std::ofstream(fs::path(c_.output) / "train_log.jsonl", std::ios::trunc);
    Generator::default_generator().manual_seed(rank_seed(c_.seed, comm_->rank()));
  }
  copy_from_rank0(*comm_, trainable_);
  start_ = Clock::now() - std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(state_.seconds));
  encode_all();

  lora_->training = true;
  std::vector<int64_t> order;
  int64_t order_epoch = -1;
  auto example_at = [&](int64_t position) {  // position in the endless sequence of epochs
    const int64_t epoch = position / n;
    if (epoch != order_epoch) order = epoch_order(n, c_.seed, order_epoch = epoch);
    return order[static_cast<size_t>(position % n)];
  };
  while (state_.step < total_steps) {
    const auto step_start = Clock::now();
    const int64_t step = state_.step;
    const StepOutcome outcome = stepper.run(step, [&](int64_t a) {
      // Micro-batch k of the run covers positions [k * B, (k + 1) * B) within its epoch.
      const int64_t k = step * per_step + a * ranks() + comm_->rank();
      const int64_t epoch = k / micro_per_epoch, within = k % micro_per_epoch;
      std::vector<int64_t> indices;
      for (int64_t i = within * c_.batch_size; i < std::min(n, (within + 1) * c_.batch_size); ++i)
        indices.push_back(example_at(epoch * n + i));
      last_.epoch = epoch;
      return batch_loss(indices, train_);
    });
    HistoryEntry h;
    h.step = step + 1;
    h.loss = outcome.loss;
    h.tokens = outcome.tokens;
    h.grad_norm = outcome.grad_norm;
    h.lr = outcome.lr;
    h.skipped = outcome.skipped;
    if (outcome.skipped) ++result.skipped_steps;
    state_.step = step + 1;
    const bool last = state_.step == total_steps;
    if ((c_.eval_every > 0 && state_.step % c_.eval_every == 0) || last) {
      report(TrainProgress::Phase::Evaluating, state_.step, total_steps);
      const double v = validation_loss();
      if (std::isfinite(v)) h.val_loss = last_.val_loss = v;
    }
    h.seconds = std::chrono::duration<double>(Clock::now() - start_).count();
    state_.seconds = h.seconds;
    state_.history.push_back(h);
    json line = {{"step", h.step},           {"epoch", last_.epoch}, {"loss", h.loss},      {"lr", h.lr},
                 {"grad_norm", h.grad_norm}, {"tokens", h.tokens},   {"seconds", h.seconds}};
    if (h.val_loss) line["val_loss"] = *h.val_loss;
    if (h.skipped) line["skipped"] = true;
    log_line(line);

    const double step_seconds = std::chrono::duration<double>(Clock::now() - step_start).count();
    last_.loss = h.loss;
    last_.lr = h.lr;
    last_.grad_norm = h.grad_norm;
    last_.tokens_per_second = step_seconds > 0 ? static_cast<double>(h.tokens) / step_seconds : 0;
    report(TrainProgress::Phase::Training, state_.step, total_steps);

    if (c_.save_every > 0 && (state_.step % c_.save_every == 0 || last)) {
      save_random_state();
      if (lead()) save_checkpoint(c_.output, state_, trainable_, *optimizer_, c_.keep_checkpoints);
      comm_->barrier();  // a rank that stops after this point leaves a complete checkpoint behind
    }
  }
  lora_->training = false;
  result.steps = state_.step;
  if (!state_.history.empty()) {
    result.last_loss = state_.history.back().loss;
    result.val_loss = state_.history.back().val_loss;
  }
  write_outputs(result);
  comm_->barrier();  // every rank returns once the trained files are complete
  result.seconds = std::chrono::duration<double>(Clock::now() - start_).count();
  report(TrainProgress::Phase::Done, state_.step, total_steps);
  return result;
}

}  // namespace

TrainResult train(const TrainConfig& config, const ProgressCallback& progress) {
  Run run(config, progress);
  return run.go();
}

}  // namespace vg::train
