"""BERTScore goldens for src/eval/bertscore.h, the BERT encoder (src/models/bert/) and the WordPiece
tokenizer (src/text/wordpiece.h).

The reference is bert_score 0.3.13 (github.com/Tiiiger/bert_score, bert_score/utils.py and score.py).
It is not installed on the GPU machine and there is no network, so this script restates its
scoring path line by line in the functions below (sent_encode, get_idf_dict, padding, bert_encode,
collate_idf, get_bert_embedding, greedy_cos_idf, bert_cos_score_idf, score), running transformers'
BertModel and the Hugging Face `tokenizers` library exactly as bert_score drives them: the model
truncated to its first `num_layers` layers (get_model), sentences deduplicated and sorted by word
count and encoded in batches of 64 with an attention mask, pairs matched in groups of 64
(batch_size), idf from the references, [CLS]/[SEP] weight 0 without idf, empty sentences scored 0,
and rescale_with_baseline with a baseline file in bert_score's format (`LAYER,P,R,F`, row
`num_layers`, read as float32). When `import bert_score` works, its score() is run as well and must
agree. bert_score's default tokenizer is the slow BertTokenizer; these goldens use the fast one
(use_fast_tokenizer=True, what the C++ reads from tokenizer.json), and where transformers still has
a slow BertTokenizer the script reports on which sentences the two differ.

What it builds and writes (under --out, default tests/data/eval/):
  bert_tiny/                  a random-weight BertModel (hidden 32, 3 layers, 4 heads, intermediate
                              64, max_position 512) saved with save_pretrained (safetensors), and a
                              WordPiece vocabulary trained with tokenizers' WordPieceTrainer on the
                              generated pairs of metric_pairs.json (index >= 80) plus ASCII
                              punctuation, so the hand-written pairs meet sub-words and [UNK] (the
                              committed vocab.txt is reused unless --retrain-vocab: the trainer
                              orders pieces of equal count differently from run to run):
                              tokenizer.json (BertNormalizer, BertPreTokenizer, WordPiece, the
                              [CLS] $A [SEP] template, as transformers' BERT converter writes it),
                              vocab.txt, tokenizer_config.json (model_max_length 512), and
                              rescale_baseline.tsv (bert_score's format, values of the size of
                              bert-base-uncased's; see the comment at its writing)
  bertscore.json              P, R, F for every pair of metric_pairs.json (candidate = prediction)
                              at layers 1 and 3, each without idf, with idf, and both rescaled;
                              layer 3 without idf also with batch_size 1 (no group padding);
                              single-word pairs grouped with long ones at layers 0, 1 and 3, with
                              batch_size 64 and 1 (where group padding changes scores); the
                              token ids of every sentence and of extra tokenizer cases (sent_encode:
                              strip, [CLS] ... [SEP], truncation to model_max_length); run facts
  bert_tiny_hidden.safetensors
                              every hidden state (output_hidden_states) of three padded sentences,
                              computed in float64
  bert_unicode.json           what tokenizers' BertNormalizer and BertPreTokenizer do to every code
                              point on its own (compact_dump): removed, whitespace, CJK padding,
                              split, punctuation, strip_accents and lowercase results; the tables
                              of src/text/wordpiece_unicode.cpp are printed from it with
                              --print-tables BERT_UNICODE_JSON

Reproduce (torch, transformers and tokenizers; CPU, float32 like bert_score on CPU):

    python tools/reference/make_bertscore_goldens.py [--out DIR]
    python tools/reference/make_bertscore_goldens.py --print-tables tests/data/eval/bert_unicode.json
"""
import argparse
import copy
import csv
import json
import math
import os
import random
import string
import sys
import time
from collections import Counter, defaultdict
from math import log

try:
    import torch
except ImportError:  # --print-tables needs no torch
    torch = None

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EVAL = os.path.join(REPO, "tests", "data", "eval")
SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
LAYERS = (1, 3)
BATCH_SIZE = 64  # bert_score.score's default
SEED = 20250611

if torch is not None:
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False

# Extra tokenizer cases: truncation, long words, control and format characters, added tokens in
# the text, CJK and its compatibility ideographs, Hangul (NFD splits syllables into jamo),
# combining marks, ligatures, final sigma, private use, unassigned code points.
EXTRA_TOKENIZER_TEXTS = [
    " ".join(["squats"] * 600),
    "keep " + "a" * 99 + " " + "b" * 100 + " " + "c" * 101 + " going",
    "a\u200bb\u0000c\ufffd d\x7f e\u00ad f\u2060g \ue000h \U000f0000i",
    "[CLS] keep [SEP] your [MASK] back [PAD][UNK] straight [cls]",
    "\u6570\u5b57 123 \u30c6\u30b9\u30c8 \uf900\uf901 \U0002f800 \u4e00\u4e8c\u4e09",
    "\uc548\ub155\ud558\uc138\uc694 squats",
    "e\u0301 \u0301a \u00e9 E\u0301 \u1e9e \u00df \u0130stanbul \u0131",
    "\ufb01 \u0132 \u01c5 \u2163 \u00bd \u2460 x\u00b2",
    "\u039f\u0394\u03a5\u03a3\u03a3\u0395\u03a5\u03a3 \u03a3 \u03c3\u03c2",
    "hello...world!?\u00bf\u00a1\u2014\u2013-\u2010 $5 3.14 1,000 10% #1 @coach ~ ^ | \\ <>",
    "\tKeep\nyour\r\nback\u000bstraight\u000c\u001c\u001fplease\u0085now\u2028\u2029end",
    "\U0001f469\u200d\U0001f469\u200d\U0001f467 \U0001f600 great \U0001f44d",
    "\u0915\u093c \u0958 \u00c5ngstr\u00f6m \u212b \u2126 K\u0327",
    "\U000e0080 \U0010fffd \u0378 \ufffe",
    "",
    "   \u3000  ",
]


# ---- bert_score 0.3.13, restated ---------------------------------------------------------------

def sent_encode(tokenizer, sent):
    "utils.sent_encode for a BERT tokenizer (not GPT-2/RoBERTa), transformers >= 4."
    sent = sent.strip()
    if sent == "":
        if not hasattr(tokenizer, "build_inputs_with_special_tokens"):  # transformers 5 without it
            return [tokenizer.cls_token_id, tokenizer.sep_token_id]
        return tokenizer.build_inputs_with_special_tokens([])
    return tokenizer.encode(sent, add_special_tokens=True, max_length=tokenizer.model_max_length, truncation=True)


def truncate_model(model, num_layers):
    "utils.get_model for bert: keep the first num_layers encoder layers."
    model = copy.deepcopy(model)
    assert 0 <= num_layers <= len(model.encoder.layer)
    model.encoder.layer = torch.nn.ModuleList([layer for layer in model.encoder.layer[:num_layers]])
    return model.eval()


def padding(arr, pad_token, dtype=None):
    dtype = torch.long if dtype is None else dtype
    lens = torch.LongTensor([len(a) for a in arr])
    max_len = lens.max().item()
    padded = torch.ones(len(arr), max_len, dtype=dtype) * pad_token
    mask = torch.zeros(len(arr), max_len, dtype=torch.long)
    for i, a in enumerate(arr):
        padded[i, : lens[i]] = torch.tensor(a, dtype=dtype)
        mask[i, : lens[i]] = 1
    return padded, lens, mask


def bert_encode(model, x, attention_mask):
    model.eval()
    with torch.no_grad():
        out = model(x, attention_mask=attention_mask, output_hidden_states=False)
    return out[0]


def get_idf_dict(arr, tokenizer):
    idf_count = Counter()
    num_docs = len(arr)
    for a in arr:  # Counter.update(chain.from_iterable(map(process, arr)))
        idf_count.update(set(sent_encode(tokenizer, a)))
    idf_dict = defaultdict(lambda: log((num_docs + 1) / (1)))
    idf_dict.update({idx: log((num_docs + 1) / (c + 1)) for (idx, c) in idf_count.items()})
    return idf_dict


def collate_idf(arr, tokenizer, idf_dict):
    arr = [sent_encode(tokenizer, a) for a in arr]
    idf_weights = [[idf_dict[i] for i in a] for a in arr]
    pad_token = tokenizer.pad_token_id
    padded, lens, mask = padding(arr, pad_token, dtype=torch.long)
    padded_idf, _, _ = padding(idf_weights, 0, dtype=torch.float)
    return padded, padded_idf, lens, mask


def get_bert_embedding(all_sens, model, tokenizer, idf_dict):
    padded_sens, padded_idf, lens, mask = collate_idf(all_sens, tokenizer, idf_dict)
    batch_size = len(all_sens)
    embeddings = []
    with torch.no_grad():
        for i in range(0, len(all_sens), batch_size):
            embeddings.append(bert_encode(model, padded_sens[i:i + batch_size], attention_mask=mask[i:i + batch_size]))
    total_embedding = torch.cat(embeddings, dim=0)
    return total_embedding, mask, padded_idf


def greedy_cos_idf(ref_embedding, ref_masks, ref_idf, hyp_embedding, hyp_masks, hyp_idf):
    ref_embedding.div_(torch.norm(ref_embedding, dim=-1).unsqueeze(-1))
    hyp_embedding.div_(torch.norm(hyp_embedding, dim=-1).unsqueeze(-1))
    batch_size = ref_embedding.size(0)
    sim = torch.bmm(hyp_embedding, ref_embedding.transpose(1, 2))
    masks = torch.bmm(hyp_masks.unsqueeze(2).float(), ref_masks.unsqueeze(1).float())
    masks = masks.expand(batch_size, -1, -1).contiguous().view_as(sim)
    masks = masks.float().to(sim.device)
    sim = sim * masks
    word_precision = sim.max(dim=2)[0]
    word_recall = sim.max(dim=1)[0]
    hyp_idf.div_(hyp_idf.sum(dim=1, keepdim=True))
    ref_idf.div_(ref_idf.sum(dim=1, keepdim=True))
    precision_scale = hyp_idf.to(word_precision.device)
    recall_scale = ref_idf.to(word_recall.device)
    P = (word_precision * precision_scale).sum(dim=1)
    R = (word_recall * recall_scale).sum(dim=1)
    F = 2 * P * R / (P + R)
    hyp_zero_mask = hyp_masks.sum(dim=1).eq(2)
    ref_zero_mask = ref_masks.sum(dim=1).eq(2)
    if torch.any(hyp_zero_mask):
        P = P.masked_fill(hyp_zero_mask, 0.0)
        R = R.masked_fill(hyp_zero_mask, 0.0)
    if torch.any(ref_zero_mask):
        P = P.masked_fill(ref_zero_mask, 0.0)
        R = R.masked_fill(ref_zero_mask, 0.0)
    F = F.masked_fill(torch.isnan(F), 0.0)
    return P, R, F


def bert_cos_score_idf(model, refs, hyps, tokenizer, idf_dict, batch_size=BATCH_SIZE):
    from torch.nn.utils.rnn import pad_sequence
    preds = []

    def dedup_and_sort(l):
        return sorted(list(set(l)), key=lambda x: len(x.split(" ")), reverse=True)

    sentences = dedup_and_sort(refs + hyps)
    stats_dict = dict()
    for batch_start in range(0, len(sentences), batch_size):
        sen_batch = sentences[batch_start:batch_start + batch_size]
        embs, masks, padded_idf = get_bert_embedding(sen_batch, model, tokenizer, idf_dict)
        for i, sen in enumerate(sen_batch):
            sequence_len = masks[i].sum().item()
            stats_dict[sen] = (embs[i, :sequence_len], padded_idf[i, :sequence_len])

    def pad_batch_stats(sen_batch):
        stats = [stats_dict[s] for s in sen_batch]
        emb, idf = zip(*stats)
        lens = [e.size(0) for e in emb]
        emb_pad = pad_sequence(emb, batch_first=True, padding_value=2.0)
        idf_pad = pad_sequence(idf, batch_first=True)
        lens_t = torch.tensor(lens, dtype=torch.long)
        base = torch.arange(max(lens), dtype=torch.long).expand(len(lens), max(lens))
        return emb_pad, base < lens_t.unsqueeze(1), idf_pad

    with torch.no_grad():
        for batch_start in range(0, len(refs), batch_size):
            ref_stats = pad_batch_stats(refs[batch_start:batch_start + batch_size])
            hyp_stats = pad_batch_stats(hyps[batch_start:batch_start + batch_size])
            P, R, F1 = greedy_cos_idf(*ref_stats, *hyp_stats)
            preds.append(torch.stack((P, R, F1), dim=-1).cpu())
    return torch.cat(preds, dim=0)


def read_baseline(path, num_layers):
    "pd.read_csv(path).iloc[num_layers].to_numpy()[1:] as float32."
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["LAYER", "P", "R", "F"], rows[0]
    return torch.tensor([float(x) for x in rows[1 + num_layers][1:]], dtype=torch.float64).float()


def score(model, tokenizer, cands, refs, num_layers, idf, baseline_path=None, batch_size=BATCH_SIZE):
    "score.score(cands, refs, num_layers=..., idf=..., rescale_with_baseline=..., baseline_path=...)."
    assert len(cands) == len(refs)
    truncated = truncate_model(model, num_layers)
    if not idf:
        idf_dict = defaultdict(lambda: 1.0)
        idf_dict[tokenizer.sep_token_id] = 0
        idf_dict[tokenizer.cls_token_id] = 0
    else:
        idf_dict = get_idf_dict(refs, tokenizer)
    all_preds = bert_cos_score_idf(truncated, refs, cands, tokenizer, idf_dict, batch_size=batch_size).cpu()
    if baseline_path is not None:
        baselines = read_baseline(baseline_path, num_layers)
        all_preds = (all_preds - baselines) / (1 - baselines)
    return all_preds


# ---- the tiny model and its tokenizer -----------------------------------------------------------

def train_vocab(sentences, size):
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True, strip_accents=None,
                                                lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    trainer = trainers.WordPieceTrainer(vocab_size=size, min_frequency=2, special_tokens=SPECIALS,
                                        continuing_subword_prefix="##", show_progress=False)
    tok.train_from_iterator(sentences, trainer)
    vocab = tok.get_vocab()
    ordered = [t for t, _ in sorted(vocab.items(), key=lambda kv: kv[1])]
    assert sorted(vocab.values()) == list(range(len(ordered)))
    assert ordered[:len(SPECIALS)] == SPECIALS, ordered[:8]
    return ordered


def write_tokenizer(vocab_list, folder):
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    vocab = {t: i for i, t in enumerate(vocab_list)}
    tok = Tokenizer(models.WordPiece(vocab=vocab, unk_token="[UNK]", max_input_chars_per_word=100))
    tok.normalizer = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True, strip_accents=None,
                                                lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    cls, sep = vocab["[CLS]"], vocab["[SEP]"]
    tok.post_processor = processors.TemplateProcessing(single="[CLS]:0 $A:0 [SEP]:0",
                                                       pair="[CLS]:0 $A:0 [SEP]:0 $B:1 [SEP]:1",
                                                       special_tokens=[("[CLS]", cls), ("[SEP]", sep)])
    tok.decoder = decoders.WordPiece(prefix="##")
    tok.add_special_tokens(SPECIALS)
    tok.save(os.path.join(folder, "tokenizer.json"))
    with open(os.path.join(folder, "vocab.txt"), "w", encoding="utf-8") as f:
        f.write("".join(t + "\n" for t in vocab_list))
    config = {"tokenizer_class": "BertTokenizer", "do_lower_case": True, "model_max_length": 512,
              "unk_token": "[UNK]", "sep_token": "[SEP]", "pad_token": "[PAD]", "cls_token": "[CLS]",
              "mask_token": "[MASK]", "strip_accents": None, "tokenize_chinese_chars": True,
              "clean_up_tokenization_spaces": True}
    with open(os.path.join(folder, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump(config, f, indent=2)
        f.write("\n")
    return tok


class RawTokenizer:
    "The parts of a transformers tokenizer that sent_encode and bert_score use, over tokenizers.Tokenizer."

    def __init__(self, tok, model_max_length=512):
        import tokenizers
        self.tok = tokenizers.Tokenizer.from_str(tok.to_str())
        self.tok.enable_truncation(max_length=model_max_length)
        self.model_max_length = model_max_length
        self.cls_token_id = self.tok.token_to_id("[CLS]")
        self.sep_token_id = self.tok.token_to_id("[SEP]")
        self.pad_token_id = self.tok.token_to_id("[PAD]")

    def build_inputs_with_special_tokens(self, ids):
        return [self.cls_token_id] + list(ids) + [self.sep_token_id]

    def encode(self, text, add_special_tokens=True, max_length=None, truncation=True):
        assert max_length == self.model_max_length and truncation
        return self.tok.encode(text, add_special_tokens=add_special_tokens).ids


def randomise(model, seed):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for n, p in model.named_parameters():
            if "LayerNorm.weight" in n:
                v = 1.0 + 0.2 * torch.randn(p.shape, generator=g)
            elif n.endswith(".bias"):
                v = 0.1 * torch.randn(p.shape, generator=g)
            elif "word_embeddings" in n:
                v = torch.randn(p.shape, generator=g)
            elif "embeddings" in n:  # position, token type
                v = 0.5 * torch.randn(p.shape, generator=g)
            else:
                v = torch.randn(p.shape, generator=g) / float(p.shape[1]) ** 0.5
            p.copy_(v)


def build_model(vocab_size, folder):
    from transformers import BertConfig, BertModel
    cfg = BertConfig(vocab_size=vocab_size, hidden_size=32, num_hidden_layers=3, num_attention_heads=4,
                     intermediate_size=64, max_position_embeddings=512, type_vocab_size=2, hidden_act="gelu",
                     layer_norm_eps=1e-12, pad_token_id=0)
    model = BertModel._from_config(cfg, attn_implementation="eager").float().eval()
    randomise(model, SEED)
    model.save_pretrained(folder, safe_serialization=True)
    assert os.path.exists(os.path.join(folder, "model.safetensors")), os.listdir(folder)
    try:
        loaded = BertModel.from_pretrained(folder, attn_implementation="eager", dtype=torch.float32)
    except TypeError:
        loaded = BertModel.from_pretrained(folder, attn_implementation="eager", torch_dtype=torch.float32)
    loaded = loaded.float().eval()
    for (n, a), (_, b) in zip(model.state_dict().items(), loaded.state_dict().items()):
        assert torch.equal(a, b), n
    return loaded


# ---- what tokenizers does per code point -----------------------------------------------------------

def ranges_of(cps):
    out = []
    for cp in sorted(cps):
        if out and out[-1][1] == cp - 1:
            out[-1][1] = cp
        else:
            out.append([cp, cp])
    return out


def unicode_dump():
    "Runs BertNormalizer's steps and BertPreTokenizer on every code point alone."
    from tokenizers import normalizers as N
    from tokenizers import pre_tokenizers as PT
    clean = N.BertNormalizer(clean_text=True, handle_chinese_chars=False, strip_accents=False, lowercase=False)
    chinese = N.BertNormalizer(clean_text=False, handle_chinese_chars=True, strip_accents=False, lowercase=False)
    strip = N.BertNormalizer(clean_text=False, handle_chinese_chars=False, strip_accents=True, lowercase=False)
    lower = N.BertNormalizer(clean_text=False, handle_chinese_chars=False, strip_accents=False, lowercase=True)
    pre = PT.BertPreTokenizer()
    removed, whitespace, other_clean, cjk, split_space, punct, other_pre = [], [], {}, [], [], [], {}
    strip_map, lower_map = {}, {}
    t0 = time.time()
    for cp in range(0x110000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        c = chr(cp)
        a = clean.normalize_str(c)
        if a == "":
            removed.append(cp)
        elif a == " " and c != " ":
            whitespace.append(cp)
        elif a != c:
            other_clean[str(cp)] = [ord(x) for x in a]
        if chinese.normalize_str(c) != c:
            cjk.append(cp)
        s = strip.normalize_str(c)
        if s != c:
            strip_map[str(cp)] = [ord(x) for x in s]
        low = lower.normalize_str(c)
        if low != c:
            lower_map[str(cp)] = [ord(x) for x in low]
        pieces = [p for p, _ in pre.pre_tokenize_str("a" + c + "b")]
        if pieces == ["a", "b"]:
            split_space.append(cp)
        elif pieces == ["a", c, "b"]:
            punct.append(cp)
        elif pieces != ["a" + c + "b"]:
            other_pre[str(cp)] = pieces
    print(f"unicode dump: {time.time() - t0:.1f} s", file=sys.stderr)
    return {"removed": ranges_of(removed), "whitespace": ranges_of(whitespace), "other_clean": other_clean,
            "chinese": ranges_of(cjk), "pre_whitespace": ranges_of(split_space), "punctuation": ranges_of(punct),
            "other_pre": other_pre, "strip_accents": strip_map, "lowercase": lower_map}


HANGUL_FIRST, HANGUL_LAST = 0xAC00, 0xD7A3


def hangul_nfd(cp):
    "The algorithmic NFD of a Hangul syllable (Unicode 3.12): leading, vowel and optional trailing jamo."
    s = cp - HANGUL_FIRST
    return [0x1100 + s // 588, 0x1161 + (s % 588) // 28] + ([0x11A7 + s % 28] if s % 28 else [])


def compact_dump(raw):
    """What bert_unicode.json keeps of unicode_dump(): the classes as [first, last] ranges, marks (code
    points that strip_accents deletes) as ranges, and the other strip_accents results ("decompositions",
    Hangul syllables left out after checking that they follow the algorithm) and lowercase results by code
    point. Everything else maps to itself."""
    assert not raw["other_clean"] and not raw["other_pre"], (raw["other_clean"], raw["other_pre"])
    strip_map = {int(k): v for k, v in raw["strip_accents"].items()}
    for cp in range(HANGUL_FIRST, HANGUL_LAST + 1):
        assert strip_map.pop(cp) == hangul_nfd(cp), hex(cp)
    return {"removed": raw["removed"], "whitespace": raw["whitespace"], "chinese": raw["chinese"],
            "pre_whitespace": raw["pre_whitespace"], "punctuation": raw["punctuation"],
            "marks": ranges_of(cp for cp, v in strip_map.items() if not v),
            "decompositions": {str(cp): v for cp, v in sorted(strip_map.items()) if v},
            "lowercase": {str(cp): v for cp, v in sorted((int(k), v) for k, v in raw["lowercase"].items())}}


def print_tables(path):
    "The C++ tables of src/text/wordpiece_unicode.cpp from a bert_unicode.json."
    with open(path) as f:
        d = json.load(f)

    def emit(decl, items, _per_line=None):
        print(decl + " = {")
        line = ""
        for item in items:  # as many as fit in 120 columns
            if line and len(line) + 1 + len(item) > 116:
                print("    " + line)
                line = ""
            line = item if not line else line + " " + item
        print("    " + line)
        print("};")

    def ranges(name, key):
        emit(f"constexpr Range {name}[]", [f"{{0x{a:X}, 0x{b:X}}}," for a, b in d[key]], 6)

    ranges("kRemoved", "removed")
    ranges("kCleanWhitespace", "whitespace")
    ranges("kChinese", "chinese")
    ranges("kSplitWhitespace", "pre_whitespace")
    ranges("kPunctuation", "punctuation")
    ranges("kMarks", "marks")
    dec = {int(k): v for k, v in d["decompositions"].items()}
    emit("constexpr Mapping kStripped[]", [f"{{0x{k:X}, 0x{v[0]:X}}}," for k, v in sorted(dec.items()) if len(v) == 1], 7)
    emit("constexpr LongMapping kStrippedLong[]",
         [f"{{0x{k:X}, {{{', '.join(f'0x{x:X}' for x in v)}}}}}," for k, v in sorted(dec.items()) if len(v) > 1], 4)
    low = {int(k): v for k, v in d["lowercase"].items()}
    single = {k: v[0] for k, v in low.items() if len(v) == 1}
    runs, keys = [], sorted(single)
    i = 0
    while i < len(keys):  # [first, last] every stride-th code point maps to cp + delta; runs never overlap
        first, delta = keys[i], single[keys[i]] - keys[i]
        best_last, best_stride, best_next = first, 1, i + 1
        for stride in (1, 2):
            j, last = i, first
            while j + 1 < len(keys) and keys[j + 1] == last + stride and single[keys[j + 1]] - keys[j + 1] == delta:
                j, last = j + 1, last + stride
            if last > best_last:
                best_last, best_stride, best_next = last, stride, j + 1
        runs.append(f"{{0x{first:X}, 0x{best_last:X}, {delta}, {best_stride}}},")
        i = best_next
    emit("constexpr LowerRun kLowerRuns[]", runs, 5)
    print("// longer lowercase results:", {hex(k): [hex(x) for x in v] for k, v in low.items() if len(v) > 1})


# ---- main ------------------------------------------------------------------------------------------

def rounded(x):
    x = float(x)
    return None if math.isnan(x) else float(f"{x:.10g}")


def triples(preds):
    return [[rounded(v) for v in row] for row in preds.tolist()]


def goldens(args):
    import tokenizers
    import transformers
    torch.manual_seed(0)
    versions = {"torch": torch.__version__, "transformers": transformers.__version__,
                "tokenizers": tokenizers.__version__, "python": sys.version.split()[0]}
    print("versions", versions, file=sys.stderr)
    folder = os.path.join(args.out, "bert_tiny")
    os.makedirs(folder, exist_ok=True)

    with open(os.path.join(EVAL, "metric_pairs.json"), encoding="utf-8") as f:
        pairs = json.load(f)["pairs"]
    refs = [p["reference"] for p in pairs]
    cands = [p["prediction"] for p in pairs]
    training = [s for p in pairs[80:] for s in (p["reference"], p["prediction"])]
    training.append(string.punctuation + " " + string.digits)
    # WordPieceTrainer orders pieces of equal count differently from run to run, so the committed
    # vocabulary is reused (and the goldens reproduce) unless a new one is asked for.
    vocab_file = os.path.join(EVAL, "bert_tiny", "vocab.txt")
    if os.path.exists(vocab_file) and not args.retrain_vocab:
        with open(vocab_file, encoding="utf-8") as f:
            vocab_list = f.read().split("\n")[:-1]
    else:
        vocab_list = train_vocab(training, 320)
    raw = write_tokenizer(vocab_list, folder)
    print("vocabulary", len(vocab_list), file=sys.stderr)
    facts = {"versions": versions, "vocab_size": len(vocab_list)}

    # The tokenizer as bert_score gets it: AutoTokenizer(use_fast=True) on the folder.
    tokenizer = RawTokenizer(raw)
    try:
        from transformers import AutoTokenizer
        auto = AutoTokenizer.from_pretrained(folder, use_fast=True)
        facts["auto_tokenizer"] = type(auto).__name__
        assert auto.model_max_length == 512, auto.model_max_length
        tokenizer_for_scores = auto
    except Exception as e:  # keep going with the raw tokenizer
        print("AutoTokenizer failed:", repr(e), file=sys.stderr)
        facts["auto_tokenizer"] = "failed: " + repr(e)
        tokenizer_for_scores = tokenizer

    texts = list(dict.fromkeys(refs + cands + EXTRA_TOKENIZER_TEXTS))
    token_ids = []
    differ_auto = 0
    for t in texts:
        ids = sent_encode(tokenizer, t)
        if tokenizer_for_scores is not tokenizer and list(sent_encode(tokenizer_for_scores, t)) != ids:
            differ_auto += 1
        token_ids.append({"text": t, "ids": ids})
    facts["sentences_where_transformers_fast_differs_from_tokenizers"] = differ_auto
    facts["unk_tokens"] = sum(e["ids"].count(tokenizer.tok.token_to_id("[UNK]")) for e in token_ids)
    try:
        from transformers import BertTokenizer
        slow = BertTokenizer(os.path.join(folder, "vocab.txt"), do_lower_case=True, model_max_length=512)
        facts["slow_tokenizer_class"] = type(slow).__name__ + (" (fast)" if getattr(slow, "is_fast", False) else "")
        differ = [e["text"] for e in token_ids if list(sent_encode(slow, e["text"])) != e["ids"]]
        facts["sentences_where_slow_differs"] = len(differ)
        facts["slow_differs_on"] = differ[:20]
    except Exception as e:
        facts["slow_tokenizer_class"] = "unavailable: " + repr(e)

    model = build_model(len(vocab_list), folder)

    # Hidden states of three padded sentences, in float64.
    hidden_texts = ["squats - Keep your back straight.", "Caf\u00e9 stretch \u2014 na\u00efve form; r\u00e9sum\u00e9 later\u2026",
                    "glute bridge - Keep the heel on the floor. Speed up a bit and extend your arms more."]
    ids = [sent_encode(tokenizer, t) for t in hidden_texts]
    padded, _, mask = padding(ids, tokenizer.pad_token_id)
    with torch.no_grad():
        out64 = copy.deepcopy(model).double()(padded, attention_mask=mask, output_hidden_states=True)
        out32 = model(padded, attention_mask=mask, output_hidden_states=True)
    hs64 = torch.stack(out64.hidden_states)  # [L + 1, B, T, D]
    hs32 = torch.stack(out32.hidden_states)
    valid = mask.bool()[None, :, :, None].expand_as(hs64)
    facts["hidden_f32_vs_f64"] = (hs32.double() - hs64).abs()[valid].max().item()
    from safetensors.torch import save_file
    save_file({"input_ids": padded.contiguous(), "attention_mask": mask.contiguous(),
               "hidden_states": hs64.contiguous()}, os.path.join(args.out, "bert_tiny_hidden.safetensors"))

    # Baselines in bert_score's format. bert_score's own are mean scores of random sentence pairs,
    # 0.32 to 0.44 for bert-base-uncased; this random model's mean over mismatched pairs is 0.6 to
    # 0.9, which would multiply the float32 noise of the reference (a few 1e-7) by up to 9 in the
    # rescaled scores, so the file holds values of a real BERT's size.
    baseline_path = os.path.join(folder, "rescale_baseline.tsv")
    rows = ["LAYER,P,R,F"] + [f"{l},{0.32 + 0.015 * l:.8f},{0.3225 + 0.015 * l:.8f},{0.318 + 0.015 * l:.8f}"
                              for l in range(model.config.num_hidden_layers + 1)]
    with open(baseline_path, "w") as f:
        f.write("\n".join(rows) + "\n")

    scores = {}
    drift = 0.0
    model64 = copy.deepcopy(model).double()
    for layer in LAYERS:
        per_layer = {}
        for name, idf, base in (("plain", False, None), ("idf", True, None), ("plain_rescaled", False, baseline_path),
                                ("idf_rescaled", True, baseline_path)):
            preds = score(model, tokenizer_for_scores, cands, refs, layer, idf, base)
            per_layer[name] = triples(preds)
            if base is None:
                p64 = score(model64, tokenizer_for_scores, cands, refs, layer, idf, None)
                drift = max(drift, (preds.double() - p64).abs().max().item())
        scores[str(layer)] = per_layer
    facts["scores_f32_vs_f64"] = drift
    batch1 = score(model, tokenizer_for_scores, cands, refs, 3, False, None, batch_size=1)
    plain3 = torch.tensor(scores["3"]["plain"], dtype=torch.float64)
    facts["pairs_changed_by_group_padding_layer3_plain"] = int(
        ((batch1.double() - plain3).abs().max(dim=1)[0] > 1e-6).sum().item())

    # Single-word pairs next to long ones in one group of 64: the group's padding (similarity 0)
    # raises a best similarity below 0 to 0, which batch_size 1 does not; layer 0 is the embeddings.
    words = [t for t in vocab_list if t.isalpha() and len(t) >= 3]
    rng = random.Random(7)
    short = [(rng.choice(words), rng.choice(words)) for _ in range(60)]
    short += [(p["prediction"], p["reference"]) for p in pairs[281:285]]
    short_cands, short_refs = [c for c, _ in short], [r for _, r in short]
    short_scores, changed = {}, {}
    for layer in (0, 1, 3):
        grouped = score(model, tokenizer_for_scores, short_cands, short_refs, layer, False, None)
        alone = score(model, tokenizer_for_scores, short_cands, short_refs, layer, False, None, batch_size=1)
        short_scores[str(layer)] = {"batch64": triples(grouped), "batch1": triples(alone)}
        changed[str(layer)] = int(((grouped - alone).abs().max(dim=1)[0] > 1e-6).sum().item())
    facts["word_pairs_changed_by_group_padding"] = changed

    try:
        import bert_score
        facts["bert_score"] = bert_score.__version__
        worst = 0.0
        for layer in LAYERS:
            for name, idf, base in (("plain", False, None), ("idf", True, None), ("idf_rescaled", True, baseline_path)):
                P, R, F = bert_score.score(cands, refs, model_type=folder, num_layers=layer, idf=idf, device="cpu",
                                           batch_size=BATCH_SIZE, nthreads=0, lang="en",
                                           rescale_with_baseline=base is not None, baseline_path=base,
                                           use_fast_tokenizer=True)
                theirs = torch.stack([P, R, F], dim=1).double()
                ours = torch.tensor(scores[str(layer)][name], dtype=torch.float64)
                worst = max(worst, (theirs - ours).abs().max().item())
        facts["bert_score_vs_restated"] = worst
    except ImportError:
        facts["bert_score"] = "not installed: the restated reference above is used"
    except Exception as e:  # installed but failing: report, keep the restated reference
        facts["bert_score"] = "failed: " + repr(e)

    golden = {
        "generator": "tools/reference/make_bertscore_goldens.py",
        "model": "bert_tiny", "baseline": "bert_tiny/rescale_baseline.tsv", "batch_size": BATCH_SIZE,
        "layers": list(LAYERS), "settings": ["plain", "idf", "plain_rescaled", "idf_rescaled"],
        "facts": facts,
        "pairs": [{"reference": r, "candidate": c} for r, c in zip(refs, cands)],
        "scores": scores,
        "batch_size_1": {"layer": 3, "setting": "plain", "scores": triples(batch1)},
        "word_pairs": {"pairs": [{"candidate": c, "reference": r} for c, r in short], "scores": short_scores,
                       "changed_by_group_padding": changed},
        "hidden_state_texts": hidden_texts,
        "token_ids": token_ids,
    }
    with open(os.path.join(args.out, "bertscore.json"), "w", encoding="utf-8") as f:
        json.dump(golden, f, ensure_ascii=False, separators=(",", ":"))
    print(json.dumps(facts, indent=1, ensure_ascii=False), file=sys.stderr)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=EVAL)
    parser.add_argument("--no-unicode", action="store_true", help="skip the per-code-point dump")
    parser.add_argument("--retrain-vocab", action="store_true",
                        help="train a new vocabulary instead of reusing tests/data/eval/bert_tiny/vocab.txt")
    parser.add_argument("--print-tables", metavar="BERT_UNICODE_JSON",
                        help="print the C++ tables of src/text/wordpiece_unicode.cpp from a dump, and stop")
    args = parser.parse_args()
    if args.print_tables:
        print_tables(args.print_tables)
        return
    failed = False
    try:
        goldens(args)
    except Exception:  # still write the code point dump, which does not depend on the goldens
        import traceback
        traceback.print_exc()
        failed = True
    if not args.no_unicode:
        import tokenizers
        dump = compact_dump(unicode_dump())
        dump["tokenizers"] = tokenizers.__version__
        with open(os.path.join(args.out, "bert_unicode.json"), "w") as f:
            json.dump(dump, f, separators=(",", ":"))
    for root, _, files in os.walk(args.out):
        for name in files:
            path = os.path.join(root, name)
            print(f"wrote {path}: {os.path.getsize(path) / 1024:.1f} KiB", file=sys.stderr)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
