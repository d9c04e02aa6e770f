// Annotated clips in the LLaVA / Mobile-VideoGPT layout (specs/mobile-videogpt-reference.md §3.2):
// a JSON array (or JSON Lines) of records
//   {"video": "squats/00000001.mp4", "conversations": [{"from": "human", "value": PROMPT},
//                                                      {"from": "gpt", "value": ANSWER}], "split": "train"}
// with media paths relative to the dataset's data folder ("image" instead of "video" for stills).
// Loading validates every record and reports each bad one by file and record number; the caller
// chooses whether a bad record rejects the file or is skipped.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace vg::data {

struct Turn {
  std::string from;   // "system", "human" or "gpt"
  std::string value;  // the text; QVED prompts carry no <video> tag (the template places the clip)
};

struct Record {
  std::string video;  // as written in the file, relative to the data folder ("" if none)
  std::string image;  // likewise, for a still image
  std::string media_path;  // the video or image resolved against the data folder ("" for text only)
  std::vector<Turn> conversations;
  std::string split;   // "train", "val", "test" or ""
  std::string id;      // the record's "id" if it has one, else "<file>#<index>"
  std::string source;  // annotation file it came from
  int64_t index = 0;   // its position there (0-based)

  // The first human turn and the first gpt turn after it: the question and the answer.
  const std::string& prompt() const;
  // prompt() without LLaVA's "<video>"/"<image>" tags (and the newline after one): the chat
  // template places the clip itself.
  std::string question() const;
  const std::string& answer() const;
};

enum class BadRecordPolicy { Reject, Skip };

struct LoadOptions {
  BadRecordPolicy on_bad_record = BadRecordPolicy::Reject;
  bool check_media_exists = true;  // a record whose video/image file is missing is bad
  std::string split;               // keep only records of this split ("" keeps all)
};

struct BadRecord {
  std::string file;
  int64_t index = 0;
  std::string problem;
  std::string describe() const;  // "qved_train.json record 12: the answer is empty"
};

struct Dataset {
  std::string name;
  std::vector<Record> records;
  std::vector<BadRecord> skipped;  // bad records left out under BadRecordPolicy::Skip
};

// One annotation file with the folder its media paths are relative to. Throws
// vg::Error("[data] ...") for a missing or unreadable file, malformed JSON, or (under Reject) the
// first bad record; under Skip, bad records are listed in Dataset::skipped.
Dataset load_annotations(const std::string& annotation_path, const std::string& data_path,
                         const LoadOptions& options = {});

}  // namespace vg::data
