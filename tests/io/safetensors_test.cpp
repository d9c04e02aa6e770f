// Reading files written by Python's safetensors (tools/reference/make_io_goldens.py), writing
// our own, and rejecting every kind of damaged file with a clear error.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "io/checkpoint.h"
#include "support/tensor_testing.h"

namespace vg {
namespace {

namespace fs = std::filesystem;

std::string temp_dir() {
  fs::path dir = fs::temp_directory_path() / ("vg_io_test_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  return dir.string();
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// A raw safetensors file from a header string and a data section.
std::string raw_file(const std::string& header, const std::string& data) {
  std::string out(8, '\0');
  uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out[static_cast<size_t>(i)] = static_cast<char>((n >> (8 * i)) & 0xff);
  return out + header + data;
}

// Expects opening `bytes` as a safetensors file to fail with a message containing `needle`.
void expect_rejected(const std::string& bytes, const std::string& needle) {
  const std::string path = temp_dir() + "/bad.safetensors";
  write_bytes(path, bytes);
  try {
    io::SafetensorsFile::open(path);
    ADD_FAILURE() << "accepted a bad file; expected an error mentioning '" << needle << "'";
  } catch (const Error& e) {
    EXPECT_EQ(e.component(), "safetensors");
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

TEST(Safetensors, ReadsEveryDtypeWrittenByPython) {
  io::SafetensorsFile f = testing::open_golden("io/all_dtypes.safetensors");
  EXPECT_EQ(f.metadata().at("writer"), "make_io_goldens.py");
  EXPECT_EQ(f.get("f32").shape(), (Shape{3, 4}));
  EXPECT_EQ(f.get("f32").to_vector<float>()[11], 3.5f);  // 11 * 0.5 - 2
  EXPECT_EQ(f.get("f64").to_vector<double>(), (std::vector<double>{1.5, -2.25, 1e-300, 3.0, 1e300, -0.0}));
  EXPECT_EQ(f.get("bf16").to_vector<float>(), (std::vector<float>{1.0f, -2.5f, 3.140625f, 65280.0f, -0.0f}));
  EXPECT_EQ(f.get("f16").to_vector<double>(),
            (std::vector<double>{0.5, -1.25, 65504.0, std::ldexp(1.0, -14), std::ldexp(1.0, -24), -0.0}));
  EXPECT_EQ(f.get("i8").to_vector<int32_t>(), (std::vector<int32_t>{-128, -1, 0, 127}));
  EXPECT_EQ(f.get("i16").to_vector<int32_t>(), (std::vector<int32_t>{-32768, 1234, 32767}));
  EXPECT_EQ(f.get("i32").to_vector<int64_t>(), (std::vector<int64_t>{INT32_MIN, 7, INT32_MAX}));
  EXPECT_EQ(f.get("i64").to_vector<int64_t>(), (std::vector<int64_t>{INT64_MIN, 42, INT64_MAX}));
  EXPECT_EQ(f.get("u8").to_vector<int32_t>(), (std::vector<int32_t>{0, 200, 255, 1}));
  EXPECT_EQ(f.get("bool").dtype(), DType::Bool);
  EXPECT_EQ(f.get("bool").to_vector<uint8_t>(), (std::vector<uint8_t>{1, 0, 1}));
  EXPECT_EQ(f.get("empty").shape(), (Shape{0, 3}));
  EXPECT_EQ(f.get("scalar").rank(), 0);
  EXPECT_EQ(f.get("scalar").item(), 3.5);
  EXPECT_EQ(f.get("rank5").shape(), (Shape{2, 1, 3, 1, 2}));
  EXPECT_EQ(f.get("rank5").to_vector<int32_t>()[11], 11);
  EXPECT_THROW(f.get("missing"), Error);
}

TEST(Safetensors, RoundTripsOurOwnFiles) {
  const std::string path = temp_dir() + "/round.safetensors";
  std::map<std::string, Tensor> tensors = {
      {"a", arange(12, DType::F32).reshape({3, 4}).transpose(0, 1)},  // non-contiguous: saved as its values
      {"b", Tensor::from_vector<int64_t>({-5, 1LL << 40}, {2})},
      {"c", ones({2, 2}, DType::BF16)},
      {"d", zeros({0}, DType::U8)},
      {"e", full({1}, 7.0, DType::F64)},
  };
  io::save_safetensors(path, tensors, {{"step", "12"}});
  io::SafetensorsFile f = io::SafetensorsFile::open(path);
  EXPECT_EQ(f.metadata().at("step"), "12");
  for (const auto& [name, t] : tensors) {
    Tensor back = f.get(name);
    EXPECT_EQ(back.dtype(), t.dtype()) << name;
    EXPECT_EQ(back.shape(), t.shape()) << name;
    EXPECT_EQ(back.to_vector<double>(), t.to_vector<double>()) << name;
  }
  // The header is padded so data starts 8-byte aligned, as the reference writer does.
  std::ifstream in(path, std::ios::binary);
  uint64_t n = 0;
  in.read(reinterpret_cast<char*>(&n), 8);
  EXPECT_EQ(n % 8, 0u);
  EXPECT_THROW(io::save_safetensors(path, {{"q", Tensor::empty({32}, DType::Q8_0)}}), Error);
}

TEST(Safetensors, WritingIsAtomic) {
  const std::string path = temp_dir() + "/atomic.safetensors";
  io::save_safetensors(path, {{"x", ones({3})}});
  // A failing save (undefined tensor) must leave the previous file intact and no temporary behind.
  EXPECT_THROW(io::save_safetensors(path, {{"x", zeros({3})}, {"y", Tensor()}}), Error);
  EXPECT_EQ(io::load_safetensors(path).at("x").to_vector<float>(), (std::vector<float>{1, 1, 1}));
  for (const auto& entry : fs::directory_iterator(fs::path(path).parent_path())) {
    EXPECT_EQ(entry.path().filename().string().find(".tmp."), std::string::npos) << entry.path();
  }
}

TEST(Safetensors, ZeroCopyViewsCanBeModifiedWithoutTouchingTheFile) {
  const std::string path = temp_dir() + "/cow.safetensors";
  io::save_safetensors(path, {{"x", ones({4})}});
  {
    io::SafetensorsFile f = io::SafetensorsFile::open(path);
    Tensor x = f.get("x");
    fill_(x, 5.0);
    EXPECT_EQ(x.to_vector<float>()[0], 5.0f);
  }
  EXPECT_EQ(io::load_safetensors(path).at("x").to_vector<float>()[0], 1.0f);
}

TEST(Safetensors, MisalignedDataIsCopied) {
  // A 1-byte tensor first puts the f32 data at an odd offset.
  std::string header = R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},)"
                       R"("b":{"dtype":"F32","shape":[1],"data_offsets":[1,5]}})";
  header.append((8 - header.size() % 8) % 8, ' ');
  float v = 2.5f;
  std::string data(1, '\x07');
  data.append(reinterpret_cast<const char*>(&v), 4);
  const std::string path = temp_dir() + "/misaligned.safetensors";
  write_bytes(path, raw_file(header, data));
  io::SafetensorsFile f = io::SafetensorsFile::open(path);
  EXPECT_EQ(f.get("b").item(), 2.5);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(f.get("b").data_ptr()) % 4, 0u);
}

TEST(Safetensors, RejectsDamagedFiles) {
  const std::string ok_header = R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  const std::string ok_data(8, '\0');
  expect_rejected("abc", "too short");
  expect_rejected(raw_file(ok_header, ok_data).substr(0, 20), "exceeds the file size");    // truncated header
  expect_rejected(raw_file(ok_header, ok_data.substr(0, 5)), "past the end of the data");  // truncated data
  expect_rejected(raw_file("{not json", ""), "not valid JSON");
  expect_rejected(raw_file("[1,2]", ""), "not a JSON object");
  expect_rejected(raw_file(R"({"w":{"dtype":"F8_E4M3","shape":[2],"data_offsets":[0,2]}})", std::string(2, '\0')),
                  "F8_E4M3");
  expect_rejected(raw_file(R"({"w":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", ok_data), "needs 12");
  expect_rejected(raw_file(R"({"w":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", ok_data), "non-negative");
  expect_rejected(raw_file(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", ok_data), "end before");
  expect_rejected(raw_file(R"({"w":{"dtype":"F32","shape":[2]}})", ok_data), "data_offsets");
  expect_rejected(raw_file(R"({"w":{"dtype":"F32","shape":[1,1,1,1,1,1,2],"data_offsets":[0,8]}})", ok_data), "rank 7");
  expect_rejected(raw_file(R"({"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}})", ok_data),
                  "impossibly large");
  expect_rejected(raw_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                           R"("b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                           ok_data),
                  "overlap");
  expect_rejected(raw_file(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},)"
                           R"("e":{"dtype":"F32","shape":[0],"data_offsets":[4,4]},)"
                           R"("b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})",
                           std::string(16, '\0')),
                  "overlap");
  expect_rejected(raw_file(R"({"__metadata__":{"k":1}})", ""), "not a string");
  std::string huge(8, '\xff');
  expect_rejected(huge + "{}", "exceeds the file size");
}

TEST(Checkpoint, ReadsAShardedHuggingFaceFolder) {
  io::Checkpoint ckpt = io::Checkpoint::open(testing::test_data_path("io/sharded"));
  EXPECT_EQ(ckpt.num_files(), 4u);
  ASSERT_EQ(ckpt.names().size(), 4u);
  Tensor w2 = ckpt.get("model.layers.2.weight", {8, 8});
  EXPECT_EQ(w2.to_vector<float>()[5], 205.0f);  // arange(64) + 100 * 2
  EXPECT_THROW(ckpt.get("model.layers.2.weight", {64}), Error);
  EXPECT_THROW(ckpt.get("model.layers.9.weight"), Error);
}

TEST(Checkpoint, ExplainsBrokenFolders) {
  const std::string dir = temp_dir() + "/ckpt";
  fs::remove_all(dir);
  fs::create_directories(dir);
  EXPECT_THROW(io::Checkpoint::open(dir), Error);  // no safetensors at all
  EXPECT_THROW(io::Checkpoint::open(dir + "/nothing-here"), Error);
  io::save_safetensors(dir + "/a.safetensors", {{"x", ones({1})}});
  io::save_safetensors(dir + "/b.safetensors", {{"x", ones({1})}});
  EXPECT_THROW(io::Checkpoint::open(dir), Error);  // 'x' in two files
  fs::remove(dir + "/b.safetensors");
  EXPECT_EQ(io::Checkpoint::open(dir).names(), (std::vector<std::string>{"x"}));
  io::write_file_atomically(dir + "/model.safetensors.index.json",
                            R"({"weight_map":{"x":"a.safetensors","y":"gone.safetensors"}})");
  EXPECT_THROW(io::Checkpoint::open(dir), Error);  // a listed shard is missing
  io::write_file_atomically(dir + "/model.safetensors.index.json", R"({"weight_map":{"y":"a.safetensors"}})");
  EXPECT_THROW(io::Checkpoint::open(dir), Error);  // the index names a tensor its shard lacks
  io::write_file_atomically(dir + "/model.safetensors.index.json", R"({"weight_map":{"x":"../a.safetensors"}})");
  EXPECT_THROW(io::Checkpoint::open(dir), Error);  // shard outside the folder
  io::write_file_atomically(dir + "/model.safetensors.index.json", "{oops");
  EXPECT_THROW(io::Checkpoint::open(dir), Error);
}

}  // namespace
}  // namespace vg
