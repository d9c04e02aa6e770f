// Annotation files and the dataset registry: valid records load, every kind of bad record is
// reported by file and record number, and rejected or skipped as asked.
#include <gtest/gtest.h>

#include <fstream>

#include "data/dataset.h"
#include "data/registry.h"
#include "support/media_fixtures.h"
#include "support/tensor_testing.h"

namespace vg::data {
namespace {

using testing::expect_error;

void write_text(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path) << text;
}

std::string record(const std::string& media, const std::string& answer, const std::string& split = "train") {
  return R"({"video": ")" + media + R"(", "conversations": [{"from": "human", "value": "How is my form?"}, )" +
         R"({"from": "gpt", "value": ")" + answer + R"("}], "split": ")" + split + R"("})";
}

TEST(Annotations, LoadsVideoImageAndTextRecords) {
  testing::ScratchFolder dir;
  write_text(dir.file("media/squats/00000001.mp4"), "x");
  write_text(dir.file("media/frames/a.png"), "x");
  write_text(dir.file("train.json"),
             "[" + record("squats/00000001.mp4", "squats - Great form, keep it up.") + ",\n" +
                 R"({"image": "frames/a.png", "id": 7, "conversations": [{"from": "system", "value": "Be brief."},)"
                 R"( {"from": "human", "value": "What is this?"}, {"from": "gpt", "value": "A squat."},)"
                 R"( {"from": "human", "value": "Sure?"}, {"from": "gpt", "value": "Yes."}]},)"
                 R"({"conversations": [{"from": "human", "value": "Hi"}, {"from": "gpt", "value": "Hello"}]}])");
  Dataset d = load_annotations(dir.file("train.json"), dir.file("media"));
  ASSERT_EQ(d.records.size(), 3u);
  EXPECT_TRUE(d.skipped.empty());
  const Record& v = d.records[0];
  EXPECT_EQ(v.video, "squats/00000001.mp4");
  EXPECT_EQ(v.media_path, dir.file("media/squats/00000001.mp4"));
  EXPECT_EQ(v.prompt(), "How is my form?");
  EXPECT_EQ(v.answer(), "squats - Great form, keep it up.");
  EXPECT_EQ(v.split, "train");
  EXPECT_EQ(v.id, "train.json#0");
  EXPECT_EQ(v.index, 0);
  const Record& i = d.records[1];
  EXPECT_EQ(i.image, "frames/a.png");
  EXPECT_EQ(i.id, "7");
  EXPECT_EQ(i.prompt(), "What is this?");
  EXPECT_EQ(i.answer(), "A squat.");
  EXPECT_EQ(d.records[2].media_path, "");
}

TEST(Annotations, EachBadRecordIsNamedAndRejectedOrSkipped) {
  testing::ScratchFolder dir;
  write_text(dir.file("media/ok.mp4"), "x");
  const std::vector<std::pair<std::string, std::string>> bad = {
      {record("missing.mp4", "squats - fine"), "missing"},
      {record("ok.mp4", "  "), "the answer is empty"},
      {R"({"video": "ok.mp4"})", "no \"conversations\""},
      {R"({"video": "ok.mp4", "conversations": [{"from": "gpt", "value": "a"}, {"from": "human", "value": "b"}]})",
       "where a human turn should be"},
      {R"({"video": "ok.mp4", "conversations": [{"from": "robot", "value": "a"}]})", "\"robot\""},
      {R"({"video": 3, "conversations": []})", "\"video\" is not a string"},
      {R"({"video": "ok.mp4", "image": "ok.mp4", "conversations": []})", "both"},
      {R"({"video": "ok.mp4", "conversations": [{"from": "human"}]})", "turn 0"},
      {R"([1, 2])", "not a JSON object"},
      {R"({"video": "ok.mp4", "conversations": [{"from": "human", "value": "q"}]})", "needs a human turn and a gpt"},
  };
  for (size_t k = 0; k < bad.size(); ++k) {
    const std::string path = dir.file("case" + std::to_string(k) + ".json");
    write_text(path, "[" + record("ok.mp4", "squats - fine") + ", " + bad[k].first + "]");
    expect_error([&] { load_annotations(path, dir.file("media")); },
                 {"[data]", "case" + std::to_string(k) + ".json record 1", bad[k].second});
    LoadOptions skip;
    skip.on_bad_record = BadRecordPolicy::Skip;
    Dataset d = load_annotations(path, dir.file("media"), skip);
    EXPECT_EQ(d.records.size(), 1u) << bad[k].first;
    ASSERT_EQ(d.skipped.size(), 1u) << bad[k].first;
    EXPECT_EQ(d.skipped[0].index, 1);
    EXPECT_NE(d.skipped[0].describe().find(bad[k].second), std::string::npos) << d.skipped[0].describe();
  }
  // Without the media check a missing file is fine (e.g. listing a dataset on another machine).
  LoadOptions no_check;
  no_check.check_media_exists = false;
  write_text(dir.file("missing.json"), "[" + record("missing.mp4", "squats - fine") + "]");
  EXPECT_EQ(load_annotations(dir.file("missing.json"), dir.file("media"), no_check).records.size(), 1u);
}

TEST(Annotations, JsonLinesSkipMalformedLinesAndSplitsFilter) {
  testing::ScratchFolder dir;
  write_text(dir.file("v.mp4"), "x");
  write_text(dir.file("all.jsonl"), record("v.mp4", "a", "train") + "\n" + record("v.mp4", "b", "test") +
                                        "\n{\"video\": \"v.mp4\", \"conversa\n\n" + record("v.mp4", "c", "test") + "\n");
  expect_error([&] { load_annotations(dir.file("all.jsonl"), dir.path().string()); },
               {"[data]", "all.jsonl record 2", "not valid JSON"});
  LoadOptions options;
  options.on_bad_record = BadRecordPolicy::Skip;
  options.split = "test";
  Dataset d = load_annotations(dir.file("all.jsonl"), dir.path().string(), options);
  ASSERT_EQ(d.records.size(), 2u);
  EXPECT_EQ(d.records[0].answer(), "b");
  EXPECT_EQ(d.records[1].answer(), "c");
  EXPECT_EQ(d.records[1].index, 3);
  EXPECT_EQ(d.skipped.size(), 1u);
}

TEST(Annotations, UnreadableFilesAreClearErrors) {
  testing::ScratchFolder dir;
  expect_error([&] { load_annotations(dir.file("nope.json"), dir.path().string()); }, {"[data]", "nope.json", "not found"});
  expect_error([&] { load_annotations(dir.path().string(), dir.path().string()); }, {"[data]", "folder"});
  write_text(dir.file("broken.json"), "[{\"video\": \"a.mp4\",");
  expect_error([&] { load_annotations(dir.file("broken.json"), dir.path().string()); },
               {"[data]", "broken.json", "not valid JSON"});
  write_text(dir.file("object.json"), "\"just a string\"");
  expect_error([&] { load_annotations(dir.file("object.json"), dir.path().string()); }, {"[data]", "JSON list"});
}

TEST(Registry, NamesResolveRelativeToTheRegistryAndRoundTrip) {
  testing::ScratchFolder dir;
  write_text(dir.file("data/dataset/squats/1.mp4"), "x");
  write_text(dir.file("data/pretraining/frames/1.png"), "x");
  write_text(dir.file("data/qved_test.json"), "[" + record("squats/1.mp4", "squats - fine", "test") + "]");
  write_text(dir.file("data/pretraining/video_captions.json"), "[" + record("squats/1.mp4", "A squat.") + "]");
  write_text(dir.file("data/pretraining/image_captions.json"),
             R"([{"image": "frames/1.png", "conversations": [{"from": "human", "value": "Describe."},)"
             R"( {"from": "gpt", "value": "A person."}]}])");
  write_text(dir.file("data/datasets.json"),
             R"({"QVED_TEST": {"annotation_path": "qved_test.json", "data_path": "dataset"},)"
             R"( "PRETRAINING": [{"annotation_path": "pretraining/video_captions.json", "data_path": "dataset"},)"
             R"( {"annotation_path": "pretraining/image_captions.json"}]})");
  DatasetRegistry r = DatasetRegistry::load(dir.file("data/datasets.json"));
  EXPECT_EQ(r.names(), (std::vector<std::string>{"PRETRAINING", "QVED_TEST"}));
  EXPECT_EQ(r.sources("QVED_TEST")[0].data_path, dir.file("data/dataset"));
  EXPECT_EQ(r.sources("PRETRAINING")[1].data_path, dir.file("data/pretraining"));
  expect_error([&] { r.sources("QVED_TRAIN"); }, {"[data]", "no dataset named 'QVED_TRAIN'", "PRETRAINING, QVED_TEST"});

  Dataset pre = load_dataset("PRETRAINING", dir.file("data/datasets.json"));
  ASSERT_EQ(pre.records.size(), 2u);
  EXPECT_EQ(pre.records[1].media_path, dir.file("data/pretraining/frames/1.png"));
  LoadOptions no_check;
  no_check.check_media_exists = false;
  Dataset by_path = load_dataset(dir.file("data/qved_test.json"), "", no_check);
  EXPECT_EQ(by_path.records[0].media_path, dir.file("data/squats/1.mp4"));  // relative to the file's folder
  expect_error([&] { load_dataset("QVED_TEST", ""); }, {"[data]", "no dataset registry"});

  // Written back, then loaded again: the same sources.
  std::map<std::string, std::vector<DatasetSource>> entries;
  for (const std::string& name : r.names()) entries[name] = r.sources(name);
  DatasetRegistry::write(dir.file("data/copy.json"), entries);
  DatasetRegistry copy = DatasetRegistry::load(dir.file("data/copy.json"));
  for (const std::string& name : r.names()) {
    ASSERT_EQ(copy.sources(name).size(), r.sources(name).size());
    for (size_t i = 0; i < r.sources(name).size(); ++i) {
      EXPECT_EQ(copy.sources(name)[i].annotation_path, r.sources(name)[i].annotation_path);
      EXPECT_EQ(copy.sources(name)[i].data_path, r.sources(name)[i].data_path);
    }
  }
  write_text(dir.file("bad.json"), R"({"X": {"data_path": "d"}})");
  expect_error([&] { DatasetRegistry::load(dir.file("bad.json")); }, {"[data]", "bad.json: X", "annotation_path"});
}

}  // namespace
}  // namespace vg::data
