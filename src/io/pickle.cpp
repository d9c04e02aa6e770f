#include "io/pickle.h"

#include <algorithm>
#include <charconv>
#include <cstring>

namespace vg::io::pickle {
namespace {

// torch's storage classes (as persistent ids name them) and the dtype each holds.
struct StorageClass {
  std::string_view name;
  std::string_view torch_dtype;
};
constexpr StorageClass kStorageClasses[] = {
    {"torch.FloatStorage", "float32"},
    {"torch.DoubleStorage", "float64"},
    {"torch.HalfStorage", "float16"},
    {"torch.BFloat16Storage", "bfloat16"},
    {"torch.CharStorage", "int8"},
    {"torch.ShortStorage", "int16"},
    {"torch.IntStorage", "int32"},
    {"torch.LongStorage", "int64"},
    {"torch.ByteStorage", "uint8"},
    {"torch.BoolStorage", "bool"},
    {"torch.ComplexFloatStorage", "complex64"},
    {"torch.ComplexDoubleStorage", "complex128"},
    {"torch.QInt8Storage", "qint8"},
    {"torch.QUInt8Storage", "quint8"},
    {"torch.QInt32Storage", "qint32"},
    {"torch.QUInt4x2Storage", "quint4x2"},
    {"torch.QUInt2x4Storage", "quint2x4"},
    {"torch.storage.UntypedStorage", ""},
    {"torch.UntypedStorage", ""},
};

// Every torch dtype a pickle may name (torch.float16 pickles as the global 'torch float16').
constexpr std::string_view kTorchDtypes =
    " float32 float float64 double float16 half bfloat16 int8 int16 short int32 int int64 long uint8 bool"
    " uint16 uint32 uint64 complex32 chalf complex64 cfloat complex128 cdouble float8_e4m3fn float8_e5m2"
    " float8_e4m3fnuz float8_e5m2fnuz float8_e8m0fnu float4_e2m1fn_x2 qint8 quint8 qint32 quint4x2 quint2x4"
    " bits1x8 bits2x4 bits4x2 bits8 bits16 ";

// Callables and classes whose effect this file reproduces. _codecs.encode is how protocol 2 writes
// bytes objects; __builtin__ is how it names builtins.
constexpr std::string_view kAllowedGlobals =
    " collections.OrderedDict torch._utils._rebuild_tensor torch._utils._rebuild_tensor_v2"
    " torch._utils._rebuild_tensor_v3 torch._utils._rebuild_parameter torch._utils._rebuild_parameter_with_state"
    " torch._tensor._rebuild_from_type torch._tensor._rebuild_from_type_v2 torch.Tensor torch.nn.parameter.Parameter"
    " torch.device torch.Size _codecs.encode builtins.set builtins.frozenset __builtin__.set __builtin__.frozenset ";

// Modules whose names are refused even with skip_unknown_objects: in Python, loading them runs code.
constexpr std::string_view kRefusedModules =
    " os posix nt subprocess sys shutil socket pickle _pickle importlib runpy ctypes code pty webbrowser marshal"
    " types operator functools builtins __builtin__ io _io codecs _codecs multiprocessing signal tempfile"
    " pathlib glob zipimport inspect asyncio threading _thread torch ";

// Whether `word` is one of the space-separated words of `list`.
bool in_word_list(std::string_view list, std::string_view word) {
  if (word.empty() || word.find(' ') != std::string_view::npos) return false;
  for (size_t at = list.find(word); at != std::string_view::npos; at = list.find(word, at + 1)) {
    if (list[at - 1] == ' ' && list[at + word.size()] == ' ') return true;
  }
  return false;
}

const StorageClass* find_storage_class(std::string_view name) {
  for (const StorageClass& c : kStorageClasses) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

bool is_torch_dtype_global(std::string_view q) {
  return q.starts_with("torch.") && in_word_list(kTorchDtypes, q.substr(6));
}

const char* opcode_name(uint8_t op) {
  switch (op) {
    case '(': return "MARK";
    case '.': return "STOP";
    case '0': return "POP";
    case '1': return "POP_MARK";
    case '2': return "DUP";
    case 'F': return "FLOAT";
    case 'I': return "INT";
    case 'J': return "BININT";
    case 'K': return "BININT1";
    case 'L': return "LONG";
    case 'M': return "BININT2";
    case 'N': return "NONE";
    case 'P': return "PERSID";
    case 'Q': return "BINPERSID";
    case 'R': return "REDUCE";
    case 'S': return "STRING";
    case 'T': return "BINSTRING";
    case 'U': return "SHORT_BINSTRING";
    case 'V': return "UNICODE";
    case 'X': return "BINUNICODE";
    case 'a': return "APPEND";
    case 'b': return "BUILD";
    case 'c': return "GLOBAL";
    case 'd': return "DICT";
    case '}': return "EMPTY_DICT";
    case 'e': return "APPENDS";
    case 'g': return "GET";
    case 'h': return "BINGET";
    case 'i': return "INST";
    case 'j': return "LONG_BINGET";
    case 'l': return "LIST";
    case ']': return "EMPTY_LIST";
    case 'o': return "OBJ";
    case 'p': return "PUT";
    case 'q': return "BINPUT";
    case 'r': return "LONG_BINPUT";
    case 's': return "SETITEM";
    case 't': return "TUPLE";
    case ')': return "EMPTY_TUPLE";
    case 'u': return "SETITEMS";
    case 'G': return "BINFLOAT";
    case 'B': return "BINBYTES";
    case 'C': return "SHORT_BINBYTES";
    case 0x80: return "PROTO";
    case 0x81: return "NEWOBJ";
    case 0x82: return "EXT1";
    case 0x83: return "EXT2";
    case 0x84: return "EXT4";
    case 0x85: return "TUPLE1";
    case 0x86: return "TUPLE2";
    case 0x87: return "TUPLE3";
    case 0x88: return "NEWTRUE";
    case 0x89: return "NEWFALSE";
    case 0x8a: return "LONG1";
    case 0x8b: return "LONG4";
    case 0x8c: return "SHORT_BINUNICODE";
    case 0x8d: return "BINUNICODE8";
    case 0x8e: return "BINBYTES8";
    case 0x8f: return "EMPTY_SET";
    case 0x90: return "ADDITEMS";
    case 0x91: return "FROZENSET";
    case 0x92: return "NEWOBJ_EX";
    case 0x93: return "STACK_GLOBAL";
    case 0x94: return "MEMOIZE";
    case 0x95: return "FRAME";
    case 0x96: return "BYTEARRAY8";
    case 0x97: return "NEXT_BUFFER";
    case 0x98: return "READONLY_BUFFER";
    default: return nullptr;
  }
}

// Python 2 style latin-1 text (how protocol 2 writes bytes: _codecs.encode(text, 'latin1')).
bool utf8_to_latin1(std::string_view s, std::string& out) {
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<uint8_t>(s[i]);
    if (c < 0x80) {
      out += static_cast<char>(c);
      ++i;
    } else if ((c & 0xe0) == 0xc0 && i + 1 < s.size() && (static_cast<uint8_t>(s[i + 1]) & 0xc0) == 0x80) {
      const uint32_t cp = ((c & 0x1fu) << 6) | (static_cast<uint8_t>(s[i + 1]) & 0x3fu);
      if (cp > 0xff) return false;
      out += static_cast<char>(cp);
      i += 2;
    } else {
      return false;
    }
  }
  return true;
}

}  // namespace

const char* kind_name(Kind kind) {
  switch (kind) {
    case Kind::None: return "None";
    case Kind::Bool: return "bool";
    case Kind::Int: return "int";
    case Kind::BigInt: return "int";
    case Kind::Float: return "float";
    case Kind::String: return "str";
    case Kind::Bytes: return "bytes";
    case Kind::List: return "list";
    case Kind::Tuple: return "tuple";
    case Kind::Dict: return "dict";
    case Kind::Global: return "global";
    case Kind::Storage: return "storage";
    case Kind::Tensor: return "tensor";
    case Kind::Object: return "object";
  }
  return "?";
}

std::optional<DType> dtype_from_torch(std::string_view n) {
  if (n == "float32" || n == "float") return DType::F32;
  if (n == "float64" || n == "double") return DType::F64;
  if (n == "float16" || n == "half") return DType::F16;
  if (n == "bfloat16") return DType::BF16;
  if (n == "int8") return DType::I8;
  if (n == "int16" || n == "short") return DType::I16;
  if (n == "int32" || n == "int") return DType::I32;
  if (n == "int64" || n == "long") return DType::I64;
  if (n == "uint8") return DType::U8;
  if (n == "bool") return DType::Bool;
  return std::nullopt;
}

const Value* Value::get(std::string_view key) const {
  if (kind != Kind::Dict) return nullptr;
  if (key_index) {
    auto it = key_index->find("s" + std::string(key));
    return it == key_index->end() ? nullptr : entries[it->second].second;
  }
  for (const auto& [k, v] : entries) {
    if (k->kind == Kind::String && k->text == key) return v;
  }
  return nullptr;
}

std::string Value::describe() const {
  switch (kind) {
    case Kind::None: return "None";
    case Kind::Bool: return boolean ? "True" : "False";
    case Kind::Int: return str("int ", integer);
    case Kind::Float: return str("float ", real);
    case Kind::String: return "str '" + (text.size() > 40 ? text.substr(0, 40) + "..." : text) + "'";
    case Kind::List:
    case Kind::Tuple: return str(kind_name(kind), " of ", items.size());
    case Kind::Dict: return str("dict of ", entries.size());
    case Kind::Global:
    case Kind::Object: return str(kind_name(kind), " '", text, "'");
    default: return kind_name(kind);
  }
}

class Unpickler {
 public:
  Unpickler(std::span<const uint8_t> bytes, const UnpickleOptions& options)
      : data_(bytes.data()), size_(bytes.size()), o_(options) {}

  Document run() {
    while (true) {
      op_pos_ = pos_;
      if (pos_ >= size_) corrupt("the pickle ends without a STOP opcode (truncated?)");
      const uint8_t op = data_[pos_++];
      if (op == '.') break;
      step(op);
    }
    if (stack_.empty()) corrupt("STOP with an empty stack");
    doc_.root_ = stack_.back();
    doc_.end_ = pos_;
    return std::move(doc_);
  }

 private:
  // ---- errors ----
  [[noreturn]] void fail(const std::string& message) const {
    throw Error(o_.component, o_.where.empty() ? message : o_.where + ": " + message);
  }
  [[noreturn]] void corrupt(const std::string& message) const {
    fail(str("the pickle is corrupt at byte ", op_pos_, ": ", message));
  }
  [[noreturn]] void refuse(const std::string& global) const {
    fail(str("refusing to load: the pickle calls '", global, "', which is not part of a tensor checkpoint"));
  }

  // ---- input ----
  const uint8_t* take(uint64_t n) {
    if (n > size_ - pos_) {
      corrupt(str(opcode_name(data_[op_pos_]), " needs ", n, " more bytes, ", size_ - pos_, " are left (truncated?)"));
    }
    const uint8_t* p = data_ + pos_;
    pos_ += n;
    return p;
  }
  uint64_t read_le(int bytes) {
    const uint8_t* p = take(static_cast<uint64_t>(bytes));
    uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | p[i];
    return v;
  }
  std::string_view line(size_t max_len = 1024) {
    const uint8_t* start = data_ + pos_;
    const size_t avail = std::min<size_t>(size_ - pos_, max_len + 1);
    const void* nl = std::memchr(start, '\n', avail);
    if (nl == nullptr) corrupt(str(opcode_name(data_[op_pos_]), " has no end of line within ", max_len, " bytes"));
    const size_t len = static_cast<size_t>(static_cast<const uint8_t*>(nl) - start);
    pos_ += len + 1;
    return {reinterpret_cast<const char*>(start), len};
  }
  int64_t parse_int(std::string_view s) {
    int64_t v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size()) corrupt(str("'", s.substr(0, 40), "' is not an integer"));
    return v;
  }

  // ---- values and the stack ----
  Value* make(Kind kind) {
    if (doc_.arena_.size() + memo_.size() >= o_.max_values) {
      fail(str("the pickle holds more than ", o_.max_values, " objects; refusing to read further"));
    }
    doc_.arena_.push_back(std::make_unique<Value>());
    doc_.arena_.back()->kind = kind;
    return doc_.arena_.back().get();
  }
  Value* make_int(int64_t v) {
    Value* x = make(Kind::Int);
    x->integer = v;
    return x;
  }
  Value* make_text(Kind kind, uint64_t len) {
    const uint8_t* p = take(len);
    Value* x = make(kind);
    x->text.assign(reinterpret_cast<const char*>(p), static_cast<size_t>(len));
    return x;
  }
  size_t base() const { return marks_.empty() ? 0 : marks_.back(); }
  void push(Value* v) { stack_.push_back(v); }
  Value* pop() {
    if (stack_.size() <= base()) corrupt(str(opcode_name(data_[op_pos_]), " on an empty stack"));
    Value* v = stack_.back();
    stack_.pop_back();
    return v;
  }
  Value* top() {
    if (stack_.size() <= base()) corrupt(str(opcode_name(data_[op_pos_]), " on an empty stack"));
    return stack_.back();
  }
  std::vector<Value*> pop_mark() {
    if (marks_.empty()) corrupt(str(opcode_name(data_[op_pos_]), " without a MARK"));
    const size_t b = marks_.back();
    marks_.pop_back();
    std::vector<Value*> items(stack_.begin() + static_cast<std::ptrdiff_t>(b), stack_.end());
    stack_.resize(b);
    return items;
  }
  Value* make_sequence(Kind kind, std::vector<Value*> items) {
    Value* v = make(kind);
    v->items = std::move(items);
    return v;
  }
  void memo_put(uint64_t index) {
    Value* v = top();
    if (memo_.size() >= o_.max_values) fail(str("the pickle memoizes more than ", o_.max_values, " objects"));
    memo_[index] = v;
  }
  void memo_get(uint64_t index) {
    auto it = memo_.find(index);
    if (it == memo_.end()) corrupt(str("memo entry ", index, " is read before it is written"));
    push(it->second);
  }
  void set_item(Value* dict, Value* key, Value* value) {
    if (dict->kind != Kind::Dict) corrupt(str("SETITEM on a ", kind_name(dict->kind), ", not a dict"));
    std::string signature;
    if (key->kind == Kind::String) signature = "s" + key->text;
    if (key->kind == Kind::Int) signature = "i" + std::to_string(key->integer);
    if (!signature.empty()) {
      if (!dict->key_index) dict->key_index = std::make_unique<std::unordered_map<std::string, size_t>>();
      auto [it, inserted] = dict->key_index->emplace(std::move(signature), dict->entries.size());
      if (!inserted) {
        dict->entries[it->second].second = value;
        return;
      }
    }
    dict->entries.emplace_back(key, value);
  }
  void append(Value* list, Value* item) {
    if (list->kind != Kind::List) corrupt(str("APPEND to a ", kind_name(list->kind), ", not a list"));
    list->items.push_back(item);
  }

  Value* make_long(const uint8_t* p, uint64_t n) {
    if (n == 0) return make_int(0);
    if (n > 8) {
      Value* v = make(Kind::BigInt);
      v->text.assign(reinterpret_cast<const char*>(p), static_cast<size_t>(n));
      return v;
    }
    uint64_t u = 0;
    for (uint64_t i = n; i-- > 0;) u = (u << 8) | p[i];
    if (n < 8 && (p[n - 1] & 0x80)) u |= ~uint64_t{0} << (8 * n);  // sign-extend
    return make_int(static_cast<int64_t>(u));
  }

  void step(uint8_t op);
  Value* resolve_global(std::string_view module, std::string_view name);
  Value* call(Value* fn, Value* args, const char* opcode);
  Value* rebuild_tensor(const std::string& fn, const std::vector<Value*>& a);
  Value* persistent_load(Value* pid);
  int64_t int_arg(const Value* v, const char* what) {
    if (v->kind != Kind::Int) corrupt(str(what, " is a ", v->describe(), ", not an int"));
    return v->integer;
  }

  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0, op_pos_ = 0;
  const UnpickleOptions& o_;
  Document doc_;
  std::vector<Value*> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint64_t, Value*> memo_;
};

void Unpickler::step(uint8_t op) {
  switch (op) {
    case 0x80: {  // PROTO
      const uint64_t proto = read_le(1);
      if (proto > 5) corrupt(str("pickle protocol ", proto, " is newer than 5"));
      return;
    }
    case 0x95: {  // FRAME: a length prefix for the next opcodes; frames need no special handling
      const uint64_t len = read_le(8);
      if (len > size_ - pos_) corrupt(str("a FRAME of ", len, " bytes with ", size_ - pos_, " left (truncated?)"));
      return;
    }
    case '(':
      if (marks_.size() >= o_.max_marks) fail(str("the pickle nests more than ", o_.max_marks, " MARKs"));
      marks_.push_back(stack_.size());
      return;
    case '0':  // POP: the top item, or a whole mark when the current one is empty (as Python)
      if (stack_.size() > base()) {
        stack_.pop_back();
      } else {
        pop_mark();
      }
      return;
    case '1': pop_mark(); return;
    case '2': push(top()); return;
    case 'N': push(make(Kind::None)); return;
    case 0x88:
    case 0x89: {
      Value* v = make(Kind::Bool);
      v->boolean = op == 0x88;
      push(v);
      return;
    }
    case 'J': push(make_int(static_cast<int32_t>(static_cast<uint32_t>(read_le(4))))); return;
    case 'K': push(make_int(static_cast<int64_t>(read_le(1)))); return;
    case 'M': push(make_int(static_cast<int64_t>(read_le(2)))); return;
    case 0x8a: {  // LONG1
      const uint64_t n = read_le(1);
      push(make_long(take(n), n));
      return;
    }
    case 0x8b: {  // LONG4
      const auto n = static_cast<int32_t>(static_cast<uint32_t>(read_le(4)));
      if (n < 0) corrupt("LONG4 with a negative length");
      push(make_long(take(static_cast<uint64_t>(n)), static_cast<uint64_t>(n)));
      return;
    }
    case 'I': {  // INT (protocol 0): "01"/"00" are True/False
      std::string_view s = line(64);
      if (s == "01" || s == "00") {
        Value* v = make(Kind::Bool);
        v->boolean = s == "01";
        push(v);
      } else {
        push(make_int(parse_int(s)));
      }
      return;
    }
    case 'L': {  // LONG (protocol 0): "123L"
      std::string_view s = line(64);
      if (!s.empty() && s.back() == 'L') s.remove_suffix(1);
      push(make_int(parse_int(s)));
      return;
    }
    case 'G': {  // BINFLOAT: big-endian double
      const uint8_t* p = take(8);
      uint64_t bits = 0;
      for (int i = 0; i < 8; ++i) bits = (bits << 8) | p[i];
      Value* v = make(Kind::Float);
      std::memcpy(&v->real, &bits, sizeof bits);
      push(v);
      return;
    }
    case 'X': push(make_text(Kind::String, read_le(4))); return;
    case 0x8c: push(make_text(Kind::String, read_le(1))); return;
    case 0x8d: push(make_text(Kind::String, read_le(8))); return;
    case 'T': {  // BINSTRING: a Python 2 str, read as text
      const auto n = static_cast<int32_t>(static_cast<uint32_t>(read_le(4)));
      if (n < 0) corrupt("BINSTRING with a negative length");
      push(make_text(Kind::String, static_cast<uint64_t>(n)));
      return;
    }
    case 'U': push(make_text(Kind::String, read_le(1))); return;
    case 'B': push(make_text(Kind::Bytes, read_le(4))); return;
    case 'C': push(make_text(Kind::Bytes, read_le(1))); return;
    case 0x8e:
    case 0x96: push(make_text(Kind::Bytes, read_le(8))); return;
    case ']':
    case 0x8f: push(make(Kind::List)); return;
    case '}': push(make(Kind::Dict)); return;
    case ')': push(make(Kind::Tuple)); return;
    case 'l':
    case 0x91: push(make_sequence(Kind::List, pop_mark())); return;
    case 't': push(make_sequence(Kind::Tuple, pop_mark())); return;
    case 0x85:
    case 0x86:
    case 0x87: {
      const size_t n = op - 0x84u;
      std::vector<Value*> items(n);
      for (size_t i = n; i-- > 0;) items[i] = pop();
      push(make_sequence(Kind::Tuple, std::move(items)));
      return;
    }
    case 'd': {
      std::vector<Value*> items = pop_mark();
      if (items.size() % 2 != 0) corrupt("DICT with an odd number of items");
      Value* d = make(Kind::Dict);
      for (size_t i = 0; i < items.size(); i += 2) set_item(d, items[i], items[i + 1]);
      push(d);
      return;
    }
    case 'a': {
      Value* item = pop();
      append(top(), item);
      return;
    }
    case 'e':
    case 0x90: {  // APPENDS, ADDITEMS
      std::vector<Value*> items = pop_mark();
      Value* list = top();
      for (Value* item : items) append(list, item);
      return;
    }
    case 's': {
      Value* value = pop();
      Value* key = pop();
      set_item(top(), key, value);
      return;
    }
    case 'u': {
      std::vector<Value*> items = pop_mark();
      if (items.size() % 2 != 0) corrupt("SETITEMS with an odd number of items");
      Value* dict = top();
      for (size_t i = 0; i < items.size(); i += 2) set_item(dict, items[i], items[i + 1]);
      return;
    }
    case 'q': memo_put(read_le(1)); return;
    case 'r': memo_put(read_le(4)); return;
    case 'p': memo_put(static_cast<uint64_t>(parse_int(line(32)))); return;
    case 0x94: memo_put(memo_.size()); return;
    case 'h': memo_get(read_le(1)); return;
    case 'j': memo_get(read_le(4)); return;
    case 'g': memo_get(static_cast<uint64_t>(parse_int(line(32)))); return;
    case 'c': {
      const std::string module(line());
      const std::string name(line());
      push(resolve_global(module, name));
      return;
    }
    case 0x93: {  // STACK_GLOBAL
      Value* name = pop();
      Value* module = pop();
      if (module->kind != Kind::String || name->kind != Kind::String) corrupt("STACK_GLOBAL of non-strings");
      push(resolve_global(module->text, name->text));
      return;
    }
    case 'R':
    case 0x81: {  // REDUCE, NEWOBJ: callable(*args) / cls.__new__(cls, *args)
      Value* args = pop();
      Value* fn = pop();
      push(call(fn, args, opcode_name(op)));
      return;
    }
    case 0x92: {  // NEWOBJ_EX
      Value* kwargs = pop();
      Value* args = pop();
      Value* cls = pop();
      if (kwargs->kind != Kind::Dict || !kwargs->entries.empty()) corrupt("NEWOBJ_EX with keyword arguments");
      push(call(cls, args, "NEWOBJ_EX"));
      return;
    }
    case 'b': {  // BUILD: object state (an OrderedDict's _metadata, a tensor's Python attributes)
      Value* state = pop();
      (void)state;
      Value* obj = top();
      if (obj->kind != Kind::Dict && obj->kind != Kind::Tensor && obj->kind != Kind::Object) {
        corrupt(str("BUILD on a ", obj->describe()));
      }
      return;
    }
    case 'Q': push(persistent_load(pop())); return;
    default: break;
  }
  const char* name = opcode_name(op);
  if (name == nullptr) {
    corrupt(str("unknown opcode 0x", "0123456789abcdef"[op >> 4], "0123456789abcdef"[op & 15],
                ": not a pickle, or a damaged one"));
  }
  corrupt(str("opcode ", name, " is not used by torch.save and is not supported"));
}

Value* Unpickler::resolve_global(std::string_view module, std::string_view name) {
  const std::string q = std::string(module) + "." + std::string(name);
  if (in_word_list(kAllowedGlobals, q) || find_storage_class(q) != nullptr || is_torch_dtype_global(q)) {
    Value* v = make(Kind::Global);
    v->text = q;
    return v;
  }
  if (module.starts_with("__torch__")) {
    fail(str("refusing to load: the pickle names the TorchScript class '", q,
             "': this is a torch.jit.save archive, not a torch.save checkpoint"));
  }
  if (q.starts_with("torch._utils._rebuild_") || q.starts_with("torch._tensor._rebuild_")) {
    fail(str("the checkpoint holds a tensor built by '", q,
             "' (a sparse, quantized, nested or other special tensor), which videogemma does not read"));
  }
  const std::string_view top_module = module.substr(0, module.find('.'));
  if (o_.skip_unknown_objects && !in_word_list(kRefusedModules, top_module)) {
    Value* v = make(Kind::Object);  // never called: REDUCE/NEWOBJ on it yield another opaque object
    v->text = q;
    return v;
  }
  refuse(q);
}

Value* Unpickler::call(Value* fn, Value* args, const char* opcode) {
  if (fn->kind == Kind::Object) {
    Value* v = make(Kind::Object);
    v->text = fn->text;
    return v;
  }
  if (fn->kind != Kind::Global) corrupt(str(opcode, " calls a ", fn->describe()));
  if (args->kind != Kind::Tuple) corrupt(str(opcode, " with arguments that are a ", args->describe(), ", not a tuple"));
  const std::string& f = fn->text;
  const std::vector<Value*>& a = args->items;
  auto want_args = [&](size_t lo, size_t hi) {
    if (a.size() < lo || a.size() > hi) corrupt(str("'", f, "' is called with ", a.size(), " arguments"));
  };

  if (f == "torch._utils._rebuild_tensor" || f == "torch._utils._rebuild_tensor_v2" ||
      f == "torch._utils._rebuild_tensor_v3") {
    return rebuild_tensor(f, a);
  }
  if (f == "torch._utils._rebuild_parameter" || f == "torch._utils._rebuild_parameter_with_state") {
    want_args(3, 4);  // (data, requires_grad, backward_hooks[, state]): the tensor is the parameter
    if (a[0]->kind != Kind::Tensor) corrupt(str("'", f, "' of a ", a[0]->describe(), ", not a tensor"));
    return a[0];
  }
  if (f == "torch._tensor._rebuild_from_type" || f == "torch._tensor._rebuild_from_type_v2") {
    want_args(3, 4);  // (func, type, args[, state]): a plain Tensor or Parameter, rebuilt by func(*args)
    const Value* type = a[1];
    if (type->kind != Kind::Global || (type->text != "torch.Tensor" && type->text != "torch.nn.parameter.Parameter")) {
      fail(str("the checkpoint holds a tensor of the subclass ", type->describe(), ", which videogemma does not read"));
    }
    if (a[0]->kind != Kind::Global || a[0]->text.starts_with("torch._tensor._rebuild_from_type")) {
      corrupt(str("'", f, "' with the function ", a[0]->describe()));
    }
    return call(a[0], a[2], opcode);
  }
  if (f == "collections.OrderedDict") {
    want_args(0, 1);
    Value* d = make(Kind::Dict);
    if (a.size() == 1) {
      if (a[0]->kind != Kind::List && a[0]->kind != Kind::Tuple) corrupt("OrderedDict of a non-sequence");
      for (Value* pair : a[0]->items) {
        if ((pair->kind != Kind::Tuple && pair->kind != Kind::List) || pair->items.size() != 2) {
          corrupt("OrderedDict of items that are not pairs");
        }
        set_item(d, pair->items[0], pair->items[1]);
      }
    }
    return d;
  }
  if (f == "torch.device") {  // ('cuda', 0) or ('cuda:0',): kept as the text "cuda:0"
    want_args(1, 2);
    if (a[0]->kind != Kind::String) corrupt("torch.device of a non-string");
    Value* v = make(Kind::String);
    v->text = a[0]->text;
    if (a.size() == 2 && a[1]->kind != Kind::None) v->text += ":" + std::to_string(int_arg(a[1], "a device index"));
    return v;
  }
  if (f == "torch.Size") {
    want_args(1, 1);
    if (a[0]->kind != Kind::Tuple && a[0]->kind != Kind::List) corrupt("torch.Size of a non-sequence");
    return make_sequence(Kind::Tuple, a[0]->items);
  }
  if (f.ends_with(".set") || f.ends_with(".frozenset")) {
    want_args(0, 1);
    if (a.empty()) return make(Kind::List);
    if (a[0]->kind != Kind::List && a[0]->kind != Kind::Tuple) corrupt("set of a non-sequence");
    return make_sequence(Kind::List, a[0]->items);
  }
  if (f == "_codecs.encode") {  // bytes in protocol 2: encode(text, 'latin1')
    want_args(1, 2);
    if (a[0]->kind != Kind::String) corrupt("_codecs.encode of a non-string");
    const std::string encoding = a.size() == 2 && a[1]->kind == Kind::String ? a[1]->text : "utf-8";
    Value* v = make(Kind::Bytes);
    if (encoding == "latin1" || encoding == "latin-1" || encoding == "iso-8859-1") {
      if (!utf8_to_latin1(a[0]->text, v->text)) corrupt("_codecs.encode: text that is not latin-1");
    } else if (encoding == "utf-8" || encoding == "utf8" || encoding == "ascii") {
      v->text = a[0]->text;
    } else {
      corrupt(str("_codecs.encode to the encoding '", encoding, "'"));
    }
    return v;
  }
  // Storage classes, dtypes and tensor types are arguments only; torch.save never calls them.
  fail(str("refusing to load: the pickle calls '", f, "' with arguments, which torch.save never does"));
}

Value* Unpickler::rebuild_tensor(const std::string& f, const std::vector<Value*>& a) {
  const bool v3 = f.ends_with("_v3"), v1 = f.ends_with("_rebuild_tensor");
  // v1: (storage, offset, size, stride); v2: + (requires_grad, hooks[, metadata]); v3: v2's + dtype.
  const size_t lo = v1 ? 4 : v3 ? 7 : 6, hi = v1 ? 4 : v3 ? 8 : 7;
  if (a.size() < lo || a.size() > hi) corrupt(str("'", f, "' is called with ", a.size(), " arguments"));
  if (a[0]->kind != Kind::Storage) corrupt(str("'", f, "' of a ", a[0]->describe(), ", not a storage"));
  auto ref = std::make_unique<TensorRef>();
  ref->storage = *a[0]->storage;
  ref->offset = int_arg(a[1], "a tensor's storage offset");
  if (ref->offset < 0) corrupt(str("a tensor has the negative storage offset ", ref->offset));
  for (int k = 2; k <= 3; ++k) {
    const Value* list = a[static_cast<size_t>(k)];
    if (list->kind != Kind::Tuple && list->kind != Kind::List) {
      corrupt(str("a tensor's ", k == 2 ? "size" : "stride", " is a ", list->describe()));
    }
    std::vector<int64_t>& out = k == 2 ? ref->size : ref->stride;
    for (const Value* d : list->items) {
      const int64_t x = int_arg(d, k == 2 ? "a tensor's size" : "a tensor's stride");
      if (x < 0) corrupt(str("a tensor has the negative ", k == 2 ? "size " : "stride ", x));
      out.push_back(x);
    }
  }
  if (ref->size.size() != ref->stride.size()) {
    corrupt(str("a tensor has ", ref->size.size(), " sizes but ", ref->stride.size(), " strides"));
  }
  if (!v1) ref->requires_grad = a[4]->kind == Kind::Bool ? a[4]->boolean : a[4]->kind == Kind::Int && a[4]->integer;
  if (v3) {
    const Value* dt = a[6];
    if (dt->kind != Kind::Global || !is_torch_dtype_global(dt->text))
      corrupt(str("a tensor's dtype is a ", dt->describe()));
    ref->torch_dtype = dt->text.substr(6);
  } else {
    ref->torch_dtype = ref->storage.torch_dtype;
    if (ref->torch_dtype.empty()) corrupt(str("'", f, "' of an untyped storage, which needs _rebuild_tensor_v3"));
  }
  ref->dtype = dtype_from_torch(ref->torch_dtype);
  Value* v = make(Kind::Tensor);
  v->tensor = std::move(ref);
  doc_.tensors_.push_back(v);
  return v;
}

Value* Unpickler::persistent_load(Value* pid) {
  // torch.save: ('storage', storage_class, key, location, numel); legacy files add view_metadata.
  if (pid->kind != Kind::Tuple || pid->items.size() < 5 || pid->items.size() > 6 ||
      pid->items[0]->kind != Kind::String || pid->items[0]->text != "storage") {
    fail(str("refusing to load: the pickle asks for the external object ", pid->describe(),
             ", which is not a torch storage"));
  }
  const std::vector<Value*>& a = pid->items;
  const StorageClass* cls = a[1]->kind == Kind::Global ? find_storage_class(a[1]->text) : nullptr;
  if (cls == nullptr) corrupt(str("a storage of the type ", a[1]->describe()));
  auto ref = std::make_unique<StorageRef>();
  ref->type = a[1]->text;
  ref->torch_dtype = std::string(cls->torch_dtype);
  ref->dtype = cls->torch_dtype.empty() ? std::optional<DType>(DType::U8) : dtype_from_torch(cls->torch_dtype);
  if (a[2]->kind == Kind::String) {
    ref->key = a[2]->text;
  } else {
    ref->key = std::to_string(int_arg(a[2], "a storage key"));
  }
  if (a[3]->kind != Kind::String) corrupt(str("a storage location is a ", a[3]->describe()));
  ref->location = a[3]->text;
  ref->numel = int_arg(a[4], "a storage size");
  if (ref->numel < 0) corrupt(str("a storage has the negative size ", ref->numel));
  if (a.size() == 6 && a[5]->kind != Kind::None) {
    fail("the checkpoint uses storage views (written by torch < 0.4), which videogemma does not read");
  }
  Value* v = make(Kind::Storage);
  v->storage = std::move(ref);
  return v;
}

Document unpickle(std::span<const uint8_t> bytes, const UnpickleOptions& options) {
  return Unpickler(bytes, options).run();
}

}  // namespace vg::io::pickle
