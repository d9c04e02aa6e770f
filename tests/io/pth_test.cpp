// Reading PyTorch checkpoints written by torch.save (tools/reference/make_pth_goldens.py) with no
// Python: the zip layer, the restricted unpickler, tensors as views of the storages, the legacy
// format, and refusing malicious or damaged files with a vg::Error (never a crash, never running
// anything the pickle asks for).
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include "io/pth.h"
#include "io/zip_reader.h"
#include "models/common/pth_source.h"
#include "support/tensor_testing.h"

namespace vg {
namespace {

namespace fs = std::filesystem;
using io::pickle::Kind;
using testing::expect_error;

const char* kMarker = "/tmp/videogemma_pth_test_marker";  // what the malicious goldens would create

std::string golden(const std::string& name) { return testing::test_data_path("io/pth/" + name); }

std::string temp_dir() {
  fs::path dir = fs::temp_directory_path() / ("vg_pth_test_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  return dir.string();
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string write_temp(const std::string& name, const std::string& bytes) {
  const std::string path = temp_dir() + "/" + name;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return path;
}

std::span<const uint8_t> as_span(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// The bytes of a contiguous copy, to compare tensors exactly (NaN and -0.0 included).
std::string raw(const Tensor& t) {
  Tensor c = t.contiguous();
  return {static_cast<const char*>(c.data_ptr()), static_cast<size_t>(c.nbytes())};
}

bool views_file(const io::PthFile& f, const Tensor& t) {
  const auto* p = static_cast<const uint8_t*>(t.data_ptr());
  return p >= f.mapped_file().data() && p < f.mapped_file().data() + f.mapped_file().size();
}

// ---- ZIP --------------------------------------------------------------------

TEST(Zip, Crc32MatchesZlib) {
  const std::string check = "123456789";
  EXPECT_EQ(io::crc32(reinterpret_cast<const uint8_t*>(check.data()), check.size()), 0xcbf43926u);
  EXPECT_EQ(io::crc32(nullptr, 0), 0u);
}

TEST(Zip, ReadsTorchArchivesAlignedAndWithZip64EndRecords) {
  io::ZipArchive zip = io::ZipArchive::open(io::MappedFile::open(golden("all_dtypes.pth")), "pth");
  ASSERT_NE(zip.find("all_dtypes/data.pkl"), nullptr);
  ASSERT_NE(zip.find("all_dtypes/data/17"), nullptr);
  EXPECT_EQ(zip.find("all_dtypes/data/18"), nullptr);
  const io::ZipEntry* order = zip.find("all_dtypes/byteorder");
  ASSERT_NE(order, nullptr);
  auto b = zip.bytes(*order);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(b.data()), b.size()), "little");
  for (const io::ZipEntry& e : zip.entries()) {
    EXPECT_TRUE(e.is_stored()) << e.name;
    EXPECT_EQ(e.data_offset % 64, 0u) << e.name;  // torch aligns every record
    EXPECT_NO_THROW(zip.verify_crc(e)) << e.name;
  }
}

TEST(Zip, ReadsZip64ExtraFieldsInEveryHeader) {
  // zip64.pth has the entries of all_dtypes.pth, with 0xFFFFFFFF sizes and offsets everywhere.
  io::ZipArchive plain = io::ZipArchive::open(io::MappedFile::open(golden("all_dtypes.pth")));
  io::ZipArchive z64 = io::ZipArchive::open(io::MappedFile::open(golden("zip64.pth")));
  ASSERT_EQ(plain.entries().size(), z64.entries().size());
  for (const io::ZipEntry& e : plain.entries()) {
    const io::ZipEntry* other = z64.find(e.name);
    ASSERT_NE(other, nullptr) << e.name;
    EXPECT_EQ(other->size, e.size);
    auto x = plain.bytes(e), y = z64.bytes(*other);
    EXPECT_TRUE(std::equal(x.begin(), x.end(), y.begin(), y.end())) << e.name;
    EXPECT_NO_THROW(z64.verify_crc(*other));
  }
}

TEST(Zip, RejectsCompressedEntriesAndBadChecksums) {
  io::ZipArchive zip = io::ZipArchive::open(io::MappedFile::open(golden("compressed.pth")), "pth");
  const io::ZipEntry* pkl = zip.find("all_dtypes/data.pkl");
  ASSERT_NE(pkl, nullptr);
  expect_error([&] { zip.bytes(*pkl); }, {"[pth]", "compressed.pth", "data.pkl", "compressed (method 8, deflate)"});

  // A flipped byte inside data.pkl: the archive opens, the CRC check names the entry.
  std::string bytes = read_bytes(golden("small.pth"));
  io::ZipArchive good = io::ZipArchive::open(io::MappedFile::open(golden("small.pth")));
  bytes[good.find("small/data.pkl")->data_offset + 20] ^= 0x55;
  const std::string path = write_temp("bad_crc.pth", bytes);
  io::ZipArchive bad = io::ZipArchive::open(io::MappedFile::open(path), "pth");
  expect_error([&] { bad.verify_crc(*bad.find("small/data.pkl")); }, {"small/data.pkl", "CRC-32"});
  expect_error([&] { io::PthFile::open(path); }, {"[pth]", "corrupt", "CRC-32"});
}

TEST(Zip, EveryTruncationIsAClearError) {
  const std::string bytes = read_bytes(golden("small.pth"));
  for (size_t n = 0; n < bytes.size(); ++n) {
    const std::string path = write_temp("truncated.pth", bytes.substr(0, n));
    try {
      io::PthFile::open(path);
      ADD_FAILURE() << "a file cut to " << n << " of " << bytes.size() << " bytes was accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.component(), "pth") << e.what();
    }
  }
}

// ---- pickle -----------------------------------------------------------------

// Builds pickles by hand, opcode by opcode.
struct PickleBuilder {
  std::string b = "\x80\x02";
  PickleBuilder& op(char c) { return b += c, *this; }
  PickleBuilder& u32(uint32_t v) {
    for (int i = 0; i < 4; ++i) b += static_cast<char>((v >> (8 * i)) & 0xff);
    return *this;
  }
  PickleBuilder& text(const std::string& s) { return op('X').u32(static_cast<uint32_t>(s.size())), b += s, *this; }
  PickleBuilder& short_text(const std::string& s) {
    return op('\x8c'), b += static_cast<char>(s.size()), b += s, *this;
  }
  PickleBuilder& int1(uint8_t v) { return op('K'), b += static_cast<char>(v), *this; }
  PickleBuilder& binint(int32_t v) { return op('J').u32(static_cast<uint32_t>(v)); }
  PickleBuilder& global(const std::string& module, const std::string& name) {
    return op('c'), b += module + "\n" + name + "\n", *this;
  }
  PickleBuilder& put(uint8_t i) { return op('q'), b += static_cast<char>(i), *this; }
  PickleBuilder& get(uint8_t i) { return op('h'), b += static_cast<char>(i), *this; }
  std::string stop() const { return b + "."; }
};

io::pickle::Document unpickle(const std::string& bytes, io::pickle::UnpickleOptions options = {}) {
  options.where = "test.pkl";
  return io::pickle::unpickle(as_span(bytes), options);
}

TEST(Pickle, ReadsPlainValuesAndSharesMemoizedObjects) {
  PickleBuilder p;
  p.op('}').put(0).op('(');
  p.text("int").binint(-70000);
  p.text("list").op(']').put(1).op('(').op('\x88').op('N').int1(7).op('e');
  p.text("again").get(1);
  p.text("tuple").int1(1).int1(2).int1(3).op('\x87');
  p.text("float").op('G');
  p.b += std::string("\x40\x04\x00\x00\x00\x00\x00\x00", 8);  // 2.5, big-endian
  p.text("long").op('\x8a');
  p.b += std::string("\x02\x00\x80", 3);  // LONG1 of 2 bytes: -32768
  p.text("int").int1(9);                  // a repeated key replaces the value, as in Python
  p.op('u');
  io::pickle::Document d = unpickle(p.stop());
  const io::pickle::Value& root = d.root();
  ASSERT_TRUE(root.is(Kind::Dict));
  EXPECT_EQ(root.entries.size(), 6u);
  EXPECT_EQ(root.get("int")->integer, 9);
  const io::pickle::Value* list = root.get("list");
  ASSERT_EQ(list->items.size(), 3u);
  EXPECT_TRUE(list->items[0]->boolean);
  EXPECT_TRUE(list->items[1]->is(Kind::None));
  EXPECT_EQ(list->items[2]->integer, 7);
  EXPECT_EQ(root.get("again"), list);  // BINGET hands out the same object
  EXPECT_EQ(root.get("tuple")->items[2]->integer, 3);
  EXPECT_EQ(root.get("float")->real, 2.5);
  EXPECT_EQ(root.get("long")->integer, -32768);
  EXPECT_EQ(d.end(), p.stop().size());
}

TEST(Pickle, ReadsProtocol4Opcodes) {
  std::string b = "\x80\x04\x95";
  b += std::string(8, '\0');  // FRAME length: not checked against the content
  PickleBuilder p;
  p.b = b;
  p.short_text("collections").op('\x94').short_text("OrderedDict").op('\x94').op('\x93').op(')').op('R').op('\x94');
  p.short_text("k").op('\x8f').op('(').int1(4).int1(5).op('\x90').op('s');
  p.short_text("bytes").op('C');
  p.b += std::string("\x02\xff\x00", 3);
  p.op('s');
  io::pickle::Document d = unpickle(p.stop());
  EXPECT_EQ(d.root().get("k")->items.size(), 2u);
  EXPECT_EQ(d.root().get("bytes")->text, std::string("\xff\x00", 2));
}

TEST(Pickle, RefusesEveryGlobalOutsideTheAllowList) {
  for (auto [module, name] : {std::pair{"os", "system"},
                              {"posix", "system"},
                              {"builtins", "eval"},
                              {"__builtin__", "exec"},
                              {"subprocess", "Popen"},
                              {"torch", "load"},
                              {"numpy.core.multiarray", "_reconstruct"},
                              {"__main__", "Evil"}}) {
    PickleBuilder p;
    p.global(module, name).text("touch /tmp/x").op('\x85').op('R');
    const std::string qualified = std::string(module) + "." + name;
    expect_error([&] { unpickle(p.stop()); }, {"test.pkl: refusing to load", "'" + qualified + "'"});
    PickleBuilder q;  // the protocol 4 spelling
    q.short_text(module).short_text(name).op('\x93');
    expect_error([&] { unpickle(q.stop()); }, {"refusing to load", qualified});
  }
}

TEST(Pickle, SkippingUnknownObjectsStillRefusesCodeExecution) {
  io::pickle::UnpickleOptions lenient;
  lenient.skip_unknown_objects = true;
  PickleBuilder ok;
  ok.op('}').text("args").global("argparse", "Namespace").op(')').op('\x81').op('}').op('b').op('s');
  io::pickle::Document d = unpickle(ok.stop(), lenient);
  ASSERT_TRUE(d.root().get("args")->is(Kind::Object));
  EXPECT_EQ(d.root().get("args")->text, "argparse.Namespace");
  expect_error([&] { unpickle(ok.stop()); }, {"refusing to load", "'argparse.Namespace'"});  // the default
  for (auto [module, name] : {std::pair{"os", "system"}, {"builtins", "getattr"}, {"subprocess", "run"}}) {
    PickleBuilder p;
    p.global(module, name).text("id").op('\x85').op('R');
    expect_error([&] { unpickle(p.stop(), lenient); }, {"refusing to load", std::string(module) + "." + name});
  }
}

TEST(Pickle, RejectsMalformedPicklesClearly) {
  const std::string proto = "\x80\x02";
  expect_error([&] { unpickle(""); }, {"test.pkl", "without a STOP"});
  expect_error([&] { unpickle(proto + "}"); }, {"without a STOP"});
  expect_error(
      [&] {
        unpickle(proto +
                 "X\xff\xff\xff\xff"
                 "abc.");
      },
      {"BINUNICODE needs 4294967295 more bytes"});
  expect_error([&] { unpickle(proto + "h\x05."); }, {"memo entry 5"});
  expect_error([&] { unpickle(proto + "s."); }, {"SETITEM on an empty stack"});
  expect_error([&] { unpickle(proto + "]K\x01K\x02s."); }, {"SETITEM on a list"});
  expect_error(
      [&] {
        unpickle(proto +
                 "}K\x01"
                 "a.");
      },
      {"APPEND to a dict"});
  expect_error([&] { unpickle(proto + "}K\x01K\x02u."); }, {"SETITEMS without a MARK"});
  expect_error([&] { unpickle(proto + "\xff."); }, {"unknown opcode 0xff"});
  expect_error([&] { unpickle(proto + "i__main__\nX\n."); }, {"opcode INST", "not supported"});
  expect_error([&] { unpickle("\x80\x09."); }, {"protocol 9"});
  expect_error([&] { unpickle(proto + "K\x01)Q."); }, {"refusing to load", "not a torch storage"});
  expect_error([&] { unpickle(proto + "."); }, {"STOP with an empty stack"});
  expect_error([&] { unpickle(proto + "ccollections\nOrderedDict\nK\x01R."); }, {"not a tuple"});
  expect_error([&] { unpickle(proto + std::string(70000, '(') + "."); }, {"MARKs"});
  io::pickle::UnpickleOptions small;
  small.max_values = 1000;
  expect_error([&] { unpickle(proto + std::string(5000, ']') + ".", small); }, {"more than 1000 objects"});
}

TEST(Pickle, CyclesAndDeepOrSharedStructuresDoNotHangOrOverflow) {
  // A list that contains itself.
  PickleBuilder c;
  c.op(']').put(0).get(0).op('a');
  io::pickle::Document cycle = unpickle(c.stop());
  EXPECT_EQ(cycle.root().items[0], &cycle.root());
  expect_error([&] { io::flatten_tensors(cycle.root(), "cycle.pth"); }, {"cycle.pth", "deep"});

  // 200,000 nested lists: read iteratively; naming tensors stops at the nesting limit.
  const size_t depth = 200000;
  io::pickle::Document deep = unpickle("\x80\x02" + std::string(depth, ']') + std::string(depth - 1, 'a') + ".");
  expect_error([&] { io::flatten_tensors(deep.root(), "deep.pth"); }, {"deep"});

  // 50 levels of [x, x]: 2^50 paths to the bottom.
  PickleBuilder p;
  p.op(']').put(0);
  for (uint8_t i = 1; i <= 50; ++i)
    p.op('(').get(static_cast<uint8_t>(i - 1)).get(static_cast<uint8_t>(i - 1)).op('l').put(i);
  io::pickle::Document shared = unpickle(p.stop());
  expect_error([&] { io::flatten_tensors(shared.root(), "shared.pth"); }, {"too large"});
}

// ---- .pth files -------------------------------------------------------------

void expect_all_dtypes(const std::string& file) {
  SCOPED_TRACE(file);
  io::PthFile f = io::PthFile::open(golden(file));
  std::map<std::string, Tensor> sd = f.state_dict();
  EXPECT_EQ(sd.size(), 21u);
  // make_io_goldens.py's literals: the same values as tests/io/safetensors_test.cpp states.
  EXPECT_EQ(sd.at("f32").shape(), (Shape{3, 4}));
  EXPECT_EQ(sd.at("f32").to_vector<float>()[11], 3.5f);  // 11 * 0.5 - 2
  EXPECT_EQ(sd.at("f64").to_vector<double>(), (std::vector<double>{1.5, -2.25, 1e-300, 3.0, 1e300, -0.0}));
  EXPECT_EQ(sd.at("bf16").dtype(), DType::BF16);
  EXPECT_EQ(sd.at("bf16").to_vector<float>(), (std::vector<float>{1.0f, -2.5f, 3.140625f, 65280.0f, -0.0f}));
  EXPECT_EQ(sd.at("f16").dtype(), DType::F16);
  EXPECT_EQ(sd.at("f16").to_vector<double>(),
            (std::vector<double>{0.5, -1.25, 65504.0, std::ldexp(1.0, -14), std::ldexp(1.0, -24), -0.0}));
  EXPECT_EQ(sd.at("i8").to_vector<int32_t>(), (std::vector<int32_t>{-128, -1, 0, 127}));
  EXPECT_EQ(sd.at("i16").to_vector<int32_t>(), (std::vector<int32_t>{-32768, 1234, 32767}));
  EXPECT_EQ(sd.at("i32").to_vector<int64_t>(), (std::vector<int64_t>{INT32_MIN, 7, INT32_MAX}));
  EXPECT_EQ(sd.at("i64").to_vector<int64_t>(), (std::vector<int64_t>{INT64_MIN, 42, INT64_MAX}));
  EXPECT_EQ(sd.at("u8").shape(), (Shape{2, 2}));
  EXPECT_EQ(sd.at("u8").to_vector<int32_t>(), (std::vector<int32_t>{0, 200, 255, 1}));
  EXPECT_EQ(sd.at("bool").dtype(), DType::Bool);
  EXPECT_EQ(sd.at("bool").to_vector<uint8_t>(), (std::vector<uint8_t>{1, 0, 1}));
  EXPECT_EQ(sd.at("empty").shape(), (Shape{0, 3}));
  EXPECT_EQ(sd.at("scalar").rank(), 0);
  EXPECT_EQ(sd.at("scalar").item(), 3.5);
  EXPECT_EQ(sd.at("scalar_i64").rank(), 0);
  EXPECT_EQ(sd.at("scalar_i64").item(), -7.0);
  EXPECT_EQ(sd.at("rank5").shape(), (Shape{2, 1, 3, 1, 2}));
  EXPECT_EQ(sd.at("rank5").to_vector<int32_t>()[11], 11);
  EXPECT_EQ(sd.at("saved_from_gpu").to_vector<float>(), (std::vector<float>{1.0f, 2.0f}));

  // Views keep torch's layout: a transpose, slices of one storage, a step, an expand.
  const Tensor& tr = sd.at("transposed");
  EXPECT_EQ(tr.shape(), (Shape{3, 2}));
  EXPECT_EQ(tr.strides(), (Strides{1, 3}));
  EXPECT_FALSE(tr.is_contiguous());
  EXPECT_EQ(tr.to_vector<float>(), (std::vector<float>{0, 3, 1, 4, 2, 5}));
  EXPECT_EQ(sd.at("shared_a").offset(), 2);
  EXPECT_EQ(sd.at("shared_a").to_vector<float>(), (std::vector<float>{2, 3, 4}));
  EXPECT_EQ(sd.at("shared_b").offset(), 4);
  EXPECT_EQ(sd.at("shared_b").shape(), (Shape{2, 3}));
  EXPECT_EQ(sd.at("shared_b").to_vector<float>(), (std::vector<float>{4, 5, 6, 7, 8, 9}));
  EXPECT_EQ(sd.at("strided").strides(), (Strides{3}));
  EXPECT_EQ(sd.at("strided").to_vector<float>(), (std::vector<float>{1, 4, 7}));
  EXPECT_EQ(sd.at("base").to_vector<float>(), (std::vector<float>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
  for (const char* view : {"shared_a", "shared_b", "strided"}) {
    EXPECT_EQ(sd.at(view).storage(), sd.at("base").storage()) << view << " does not share the storage";
  }
  EXPECT_EQ(sd.at("expanded").strides(), (Strides{0, 1}));
  EXPECT_EQ(sd.at("expanded").to_vector<double>(), (std::vector<double>{1, 2, 3, 1, 2, 3}));
}

TEST(Pth, ReadsEveryDtypeAndLayoutWrittenByTorch) {
  expect_all_dtypes("all_dtypes.pth");     // pickle protocol 2, torch's default
  expect_all_dtypes("all_dtypes_p4.pth");  // protocol 4: FRAME, MEMOIZE, STACK_GLOBAL, SHORT_BINUNICODE
  expect_all_dtypes("zip64.pth");          // ZIP64 records everywhere
  expect_all_dtypes("rezipped.pth");       // Python's zipfile: unaligned data, copied
}

TEST(Pth, TensorsViewTheMappedFileWhenAligned) {
  io::PthFile aligned = io::PthFile::open(golden("all_dtypes.pth"));
  EXPECT_STREQ(aligned.format(), "zip");
  EXPECT_EQ(aligned.archive_name(), "all_dtypes");
  EXPECT_EQ(aligned.version(), 3);
  for (const auto& [name, t] : aligned.state_dict()) {
    if (t.numel() > 0) {
      EXPECT_TRUE(views_file(aligned, t)) << name << " was copied";
    }
    EXPECT_EQ(t.name(), name);
  }
  io::PthFile unaligned = io::PthFile::open(golden("rezipped.pth"));
  int copies = 0;
  for (const auto& [name, t] : unaligned.state_dict()) copies += t.numel() > 0 && !views_file(unaligned, t);
  EXPECT_GT(copies, 0);
}

TEST(Pth, LoadsTheSameTensorsAsSafetensors) {
  // Acceptance: a .pth written by torch.save(state_dict) loads with identical tensors. The
  // safetensors twins were written by Python's safetensors from the same tensors.
  for (auto [pth, st] : {std::pair{"io/pth/random.pth", "io/pth/random.safetensors"},
                         std::pair{"io/pth/all_dtypes.pth", "io/all_dtypes.safetensors"}}) {
    std::map<std::string, Tensor> a = io::PthFile::open(testing::test_data_path(pth)).state_dict();
    std::map<std::string, Tensor> b = io::load_safetensors(testing::test_data_path(st));
    ASSERT_FALSE(b.empty());
    for (const auto& [name, expected] : b) {
      ASSERT_TRUE(a.count(name)) << pth << " has no " << name;
      const Tensor& actual = a.at(name);
      EXPECT_EQ(actual.dtype(), expected.dtype()) << name;
      EXPECT_EQ(actual.shape(), expected.shape()) << name;
      EXPECT_EQ(raw(actual), raw(expected)) << name;
    }
  }
}

TEST(Pth, FlattensNestedCheckpointsAndKeepsOtherValues) {
  io::PthFile f = io::PthFile::open(golden("nested.pth"));
  std::map<std::string, Tensor> all = f.state_dict();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all.at("model.vision_encoder.cls_token").shape(), (Shape{1, 1, 3}));
  EXPECT_EQ(all.at("model.vision_encoder.cls_token").to_vector<float>(), (std::vector<float>{0.25f, -0.5f, 1.0f}));
  EXPECT_EQ(all.at("model.vision_encoder.blocks.0.norm.weight").to_vector<float>(), (std::vector<float>{1, 1, 1}));
  EXPECT_EQ(all.at("model.head.bias").dtype(), DType::BF16);
  std::map<std::string, Tensor> model = f.model_state_dict();
  ASSERT_EQ(model.size(), 3u);
  EXPECT_TRUE(model.count("vision_encoder.cls_token"));
  EXPECT_EQ(model.at("head.bias").item(), 1.5);

  const io::pickle::Value& root = f.root();
  EXPECT_EQ(root.get("epoch")->integer, 12);
  const io::pickle::Value& args = *root.get("args");
  EXPECT_EQ(args.get("lr")->real, 1e-4);
  EXPECT_EQ(args.get("name")->text, "videomamba");
  EXPECT_EQ(args.get("tags")->items[1]->text, "b");
  EXPECT_TRUE(args.get("flag")->boolean);
  EXPECT_FALSE(args.get("off")->boolean);
  EXPECT_TRUE(args.get("nothing")->is(Kind::None));
  EXPECT_EQ(args.get("pair")->items[1]->real, 2.5);
  EXPECT_EQ(args.get("neg")->integer, -5);
  EXPECT_EQ(args.get("big")->integer, int64_t{1} << 40);
  EXPECT_TRUE(args.get("huge")->is(Kind::BigInt));  // 2**70
  EXPECT_EQ(args.get("raw")->text, "ab\xff");       // _codecs.encode(..., 'latin1')
  EXPECT_EQ(args.get("dtype")->text, "torch.float16");
  EXPECT_EQ(args.get("device")->text, "cuda:0");
  EXPECT_EQ(args.get("ids")->items.size(), 2u);  // a set
}

TEST(Pth, ReadsModuleStateDictsAndParameters) {
  io::PthFile f = io::PthFile::open(golden("module_state.pth"));
  std::map<std::string, Tensor> sd = f.state_dict();  // an OrderedDict whose _metadata is dropped
  std::vector<std::string> names;
  for (const auto& [name, t] : sd) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"0.bias", "0.weight", "1.bias", "1.weight", "2.bias",
                                             "2.num_batches_tracked", "2.running_mean", "2.running_var", "2.weight"}));
  EXPECT_EQ(sd.at("0.weight").shape(), (Shape{2, 3}));
  EXPECT_EQ(sd.at("0.weight").to_vector<float>(), (std::vector<float>{0, 0.125f, 0.25f, 0.375f, 0.5f, 0.625f}));
  EXPECT_EQ(sd.at("0.bias").to_vector<float>(), (std::vector<float>{0.5f, -0.25f}));
  EXPECT_EQ(sd.at("1.weight").to_vector<float>(), (std::vector<float>{2, 3}));
  EXPECT_EQ(sd.at("1.bias").to_vector<float>(), (std::vector<float>{-1, 1}));
  EXPECT_EQ(sd.at("2.running_mean").to_vector<float>(), (std::vector<float>{0.125f, 0.75f}));
  EXPECT_EQ(sd.at("2.running_var").to_vector<float>(), (std::vector<float>{1, 1}));
  EXPECT_EQ(sd.at("2.num_batches_tracked").dtype(), DType::I64);
  EXPECT_EQ(sd.at("2.num_batches_tracked").item(), 3.0);

  std::map<std::string, Tensor> params = io::load_pth(golden("parameter.pth"));  // _rebuild_parameter
  EXPECT_EQ(params.at("weight").to_vector<float>(), (std::vector<float>{1, 2}));
  EXPECT_EQ(params.at("frozen").dtype(), DType::F64);
  EXPECT_EQ(params.at("frozen").item(), 3.0);
  EXPECT_EQ(params.at("grad_tensor").item(), 4.0);

  io::PthFile buffer = io::PthFile::open(golden("from_buffer.pth"));  // saved to a BytesIO
  EXPECT_EQ(buffer.archive_name(), "archive");
  EXPECT_EQ(buffer.state_dict().at("w").to_vector<float>(), (std::vector<float>{5, 6}));
}

TEST(Pth, ReadsTheLegacyFormat) {
  io::PthFile f = io::PthFile::open(golden("legacy.pth"));  // _use_new_zipfile_serialization=False
  EXPECT_STREQ(f.format(), "legacy");
  EXPECT_EQ(f.root().get("epoch")->integer, 3);
  std::map<std::string, Tensor> sd = f.model_state_dict();
  EXPECT_EQ(sd.size(), 8u);
  EXPECT_EQ(sd.at("f32").to_vector<float>()[11], 3.5f);
  EXPECT_EQ(sd.at("bf16").to_vector<float>(), (std::vector<float>{1.0f, -2.5f, 3.140625f, 65280.0f, -0.0f}));
  EXPECT_EQ(sd.at("i64").to_vector<int64_t>(), (std::vector<int64_t>{INT64_MIN, 42, INT64_MAX}));
  EXPECT_EQ(sd.at("scalar").item(), 3.5);
  EXPECT_EQ(sd.at("empty").shape(), (Shape{0, 3}));
  EXPECT_EQ(sd.at("shared_a").to_vector<float>(), (std::vector<float>{2, 3, 4}));
  EXPECT_EQ(sd.at("shared_b").to_vector<float>(), (std::vector<float>{4, 5, 6, 7, 8, 9}));
  EXPECT_EQ(sd.at("shared_a").storage(), sd.at("shared_b").storage());
  EXPECT_EQ(sd.at("transposed").to_vector<float>(), (std::vector<float>{0, 3, 1, 4, 2, 5}));
}

TEST(Pth, RefusesMaliciousPicklesWithoutRunningThem) {
  std::remove(kMarker);
  const std::pair<const char*, const char*> cases[] = {{"evil_system.pth", "'posix.system'"},
                                                       {"evil_system_p4.pth", "'posix.system'"},
                                                       {"evil_eval.pth", "'__builtin__.eval'"},
                                                       {"evil_class.pth", "'__main__.Unknown'"}};
  for (auto [file, global] : cases) {
    expect_error([&] { io::PthFile::open(golden(file)); },
                 {"[pth]", file, "refusing to load: the pickle calls", global, "not part of a tensor checkpoint"});
  }
  io::PthOptions lenient;
  lenient.skip_unknown_objects = true;
  io::PthFile skipped = io::PthFile::open(golden("evil_class.pth"), lenient);  // the object stays opaque
  EXPECT_EQ(skipped.state_dict().size(), 1u);
  EXPECT_EQ(skipped.root().get("evil")->text, "__main__.Unknown");
  expect_error([&] { io::PthFile::open(golden("evil_system.pth"), lenient); }, {"refusing", "posix.system"});
  expect_error([&] { io::PthFile::open(golden("evil_eval.pth"), lenient); }, {"refusing", "__builtin__.eval"});
  EXPECT_FALSE(fs::exists(kMarker)) << "a payload ran";
}

TEST(Pth, RejectsDamagedAndForeignFilesClearly) {
  expect_error([&] { io::PthFile::open(golden("short_storage.pth")); },
               {"[pth]", "short_storage.pth", "storage 'data/0' holds 12 bytes", "4 values of float32"});
  expect_error([&] { io::PthFile::open(golden("missing_storage.pth")); },
               {"missing_storage.pth", "'data/0', which the archive does not hold"});
  expect_error([&] { io::PthFile::open(golden("compressed.pth")); }, {"compressed", "re-zipped"});
  expect_error([&] { io::PthFile::open(golden("big_endian.pth")); }, {"big-endian"});
  expect_error([&] { io::PthFile::open(golden("uint16.pth")).state_dict(); },
               {"uint16.pth", "tensor 'u16' has dtype uint16", "does not read"});
  expect_error([&] { io::PthFile::open(golden("torchscript.pt")); }, {"TorchScript", "state_dict()"});
  expect_error([&] { io::PthFile::open(testing::test_data_path("io/all_dtypes.safetensors")); },
               {"not a PyTorch checkpoint", "safetensors"});
  expect_error([&] { io::PthFile::open(write_temp("empty.pth", "")); }, {"not a PyTorch checkpoint"});
  expect_error([&] { io::PthFile::open(write_temp("pickle.pth", std::string("\x80\x02}q\x00.", 6))); },
               {"not a PyTorch checkpoint", "pickle"});
  expect_error([&] { io::PthFile::open(write_temp("zip.pth", "PK\x03\x04garbage that is not a zip")); },
               {"[pth]", "zip.pth", "end-of-central-directory"});
  expect_error([&] { io::PthFile::open(temp_dir() + "/no_such_file.pth"); }, {"cannot open"});

  std::mt19937 rng(11);
  std::string garbage(4096, '\0');
  for (char& c : garbage) c = static_cast<char>(rng());
  expect_error([&] { io::PthFile::open(write_temp("garbage.pth", garbage)); }, {"garbage.pth"});

  const std::string legacy = read_bytes(golden("legacy.pth"));
  for (size_t n = 0; n < legacy.size(); n += 7) {
    const std::string path = write_temp("legacy_cut.pth", legacy.substr(0, n));
    EXPECT_THROW(io::PthFile::open(path), Error) << "legacy.pth cut to " << n << " bytes";
  }
}

// Opens `bytes` as a .pth and reads every tensor: anything but success or a vg::Error fails.
void open_and_read(const std::string& path) {
  try {
    io::PthFile f = io::PthFile::open(path);
    for (const auto& [name, t] : f.state_dict()) {
      if (t.numel() <= (1 << 16)) (void)t.to_vector<double>();  // every element, through the view
    }
  } catch (const Error&) {
  }
}

TEST(Pth, FuzzedFilesOnlyEverThrowVgErrors) {
  std::mt19937 rng(2024);
  // With data.pkl's CRC zeroed (torch may write no CRC), flipped pickle bytes reach the unpickler.
  std::string zip = read_bytes(golden("all_dtypes.pth"));
  io::ZipArchive archive = io::ZipArchive::open(io::MappedFile::open(golden("all_dtypes.pth")));
  const io::ZipEntry& pkl = *archive.find("all_dtypes/data.pkl");
  char crc[4];
  std::memcpy(crc, &pkl.crc32, 4);
  for (size_t at; (at = zip.find(std::string(crc, 4))) != std::string::npos;) std::memset(&zip[at], 0, 4);
  const std::string legacy = read_bytes(golden("legacy.pth"));

  for (int i = 0; i < 1000; ++i) {
    const bool use_legacy = i % 4 == 3;
    std::string bytes = use_legacy ? legacy : zip;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < flips; ++k) {
      size_t at = rng() % bytes.size();
      if (!use_legacy && rng() % 4 != 0) at = pkl.data_offset + rng() % pkl.size;  // mostly the pickle
      bytes[at] = static_cast<char>(bytes[at] ^ (1 + rng() % 255));
    }
    open_and_read(write_temp("fuzz.pth", bytes));
  }

  // The unpickler alone, on data.pkl with random flips, insertions and cuts.
  const auto pkl_bytes = archive.bytes(pkl);
  const std::string pickle(reinterpret_cast<const char*>(pkl_bytes.data()), pkl_bytes.size());
  for (int i = 0; i < 3000; ++i) {
    std::string bytes = pickle;
    for (int k = 0; k < 3; ++k) {
      const size_t at = rng() % bytes.size();
      switch (rng() % 3) {
        case 0: bytes[at] = static_cast<char>(rng()); break;
        case 1: bytes.insert(at, 1, static_cast<char>(rng())); break;
        default: bytes.resize(std::max<size_t>(at, 1)); break;
      }
    }
    try {
      io::pickle::Document d = unpickle(bytes);
      (void)io::flatten_tensors(d.root(), "fuzz.pth");
    } catch (const Error&) {
    }
  }
}

TEST(PthSource, ServesModelWeightsWithAPrefixStripped) {
  models::PthSource all(golden("nested.pth"));
  EXPECT_EQ(all.names(),
            (std::vector<std::string>{"head.bias", "vision_encoder.blocks.0.norm.weight", "vision_encoder.cls_token"}));
  models::PthSource vision(golden("nested.pth"), "vision_encoder.");
  EXPECT_EQ(vision.names(), (std::vector<std::string>{"blocks.0.norm.weight", "cls_token"}));
  EXPECT_TRUE(vision.contains("cls_token"));
  EXPECT_FALSE(vision.contains("head.bias"));
  EXPECT_EQ(vision.shape("cls_token"), (Shape{1, 1, 3}));
  EXPECT_EQ(vision.get("cls_token").to_vector<float>(), (std::vector<float>{0.25f, -0.5f, 1.0f}));
  EXPECT_NE(vision.describe().find("nested.pth"), std::string::npos);
  expect_error([&] { vision.get("head.bias"); }, {"[pth]", "nested.pth", "no tensor 'head.bias'"});
  expect_error([&] { models::PthSource(golden("nested.pth"), "text_encoder."); },
               {"no tensor name starts with 'text_encoder.'"});

  models::WeightLoader loader(vision, "videomamba", DType::F32);
  EXPECT_EQ(loader.load("cls_token", Shape{1, 1, 3}).to_vector<float>()[2], 1.0f);
  expect_error([&] { loader.load("blocks.0.norm.weight", Shape{4}); }, {"has shape [3], expected [4]"});
  EXPECT_EQ(loader.unused_names(), (std::vector<std::string>{"blocks.0.norm.weight"}));
}

TEST(Pth, RecognisesCheckpointPaths) {
  EXPECT_TRUE(io::is_pth_path("model.pth"));
  EXPECT_TRUE(io::is_pth_path("/x/MODEL.PT"));
  EXPECT_FALSE(io::is_pth_path("model.safetensors"));
  EXPECT_FALSE(io::is_pth_path(temp_dir()));
  const std::string bin = temp_dir() + "/pytorch_model.bin";
  fs::copy_file(golden("small.pth"), bin, fs::copy_options::overwrite_existing);
  EXPECT_TRUE(io::is_pth_path(bin));
  EXPECT_EQ(io::load_pth(bin).at("w").to_vector<float>(), (std::vector<float>{0, 1, 2, 3}));
}

}  // namespace
}  // namespace vg
