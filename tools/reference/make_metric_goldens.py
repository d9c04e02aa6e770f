"""Goldens for the text metrics (src/eval/): ROUGE from google-research rouge_score, METEOR from
NLTK 3.8, NLTK's word tokenizer, Porter stemmer and WordNet morphy/synsets, the exercise-name
rules of the reference report, and the Python str semantics those rely on.

The references are the real packages, run unmodified:

* NLTK 3.8 as Debian's python3-nltk (3.8-1), so run this with /usr/bin/python3. METEOR is
  nltk.translate.meteor_score.single_meteor_score(ref_tokens, hyp_tokens, alpha=0.9, beta=3,
  gamma=0.5), what Hugging Face `evaluate.load("meteor")` calls per sample.
* WordNet 3.0 from Debian's wordnet-base (/usr/share/wordnet, what the C++ reads). NLTK's
  WordNetCorpusReader also wants a `lexnames` file, which wordnet-base lacks: the script builds a
  temporary folder of symlinks plus that file (its content is fixed by WordNet 3.0, lexnames(5))
  and passes the reader to single_meteor_score as its `wordnet` argument (the module default is
  bound when nltk.translate.meteor_score is imported, so patching the module global would not
  reach it).
* rouge_score 0.1.2 (google-research/google-research, folder rouge/, published on PyPI as
  rouge-score). It is not installed and PyPI is not reachable here, so its five files
  (__init__.py, rouge_scorer.py, scoring.py, tokenize.py, tokenizers.py) were copied unmodified
  into /tmp/rouge_score/rouge_score/ from the stored copy of the 0.1.2 package in
  github.com/Qcompiler/MixQ_Tensorrt_LLM (commit 766cc5b277600216e392818e1747b7d051265a06,
  folder rouge_score/; identical in behaviour to google-research commit 61ce9f0ca760 rouge/).
  rouge_scorer imports `absl.logging` only to log "Using default tokenizer."; absl is not
  installed, so /tmp/rouge_score/absl/ holds a two-line shim whose logging.info does nothing.
  Put the folder on PYTHONPATH (or pass --rouge-path). Nothing of it is copied into this repo.
* nltk.word_tokenize(text) splits sentences with Punkt before NLTKWordTokenizer. NLTK's English
  Punkt parameters (nltk_data) are not in this repository, so the goldens pin the algorithm with
  parameters it can carry: PunktSentenceTokenizer() untrained, and a small parameter set written
  here (tests/data/eval/punkt_test/, punkt_tab layout, made up for the test: a few abbreviations,
  collocations, sentence starters and orthographic flags chosen to reach every branch). Each
  pair's METEOR is stored for three tokenizations: preserve_line (one sentence), untrained Punkt,
  and the test parameters. When the real English model is given (--punkt: nltk_data's
  tokenizers/punkt/PY3/english.pickle, loaded with an unpickler restricted to the classes it
  contains), the METEOR of evaluate's actual path is stored too, to measure how far the
  untrained splitter is from it; the tests report that without asserting it.

Reproduce:

    PYTHONPATH=/tmp/rouge_score /usr/bin/python3 tools/reference/make_metric_goldens.py \\
        [--punkt /tmp/nltk_data/tokenizers/punkt/PY3/english.pickle]

writes tests/data/eval/{metric_pairs,word_tokens,punkt,porter_stems,wordnet,python_text}.json and
tests/data/eval/punkt_test/.
Everything is generated from fixed lists and random.Random(seeded) recombinations.
"""
import argparse
import json
import os
import pickle
import random
import re
import sys
import tempfile
import unicodedata

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(REPO, "tests", "data", "eval")
WORDNET_DIR = "/usr/share/wordnet"

# lexnames(5) of WordNet 3.0: file number, lexicographer file name, syntactic category.
LEXNAMES = """adj.all 3
adj.pert 3
adv.all 4
noun.Tops 1
noun.act 1
noun.animal 1
noun.artifact 1
noun.attribute 1
noun.body 1
noun.cognition 1
noun.communication 1
noun.event 1
noun.feeling 1
noun.food 1
noun.group 1
noun.location 1
noun.motive 1
noun.object 1
noun.person 1
noun.phenomenon 1
noun.plant 1
noun.possession 1
noun.process 1
noun.quantity 1
noun.relation 1
noun.shape 1
noun.state 1
noun.substance 1
noun.time 1
verb.body 2
verb.change 2
verb.cognition 2
verb.communication 2
verb.competition 2
verb.consumption 2
verb.contact 2
verb.creation 2
verb.emotion 2
verb.motion 2
verb.perception 2
verb.possession 2
verb.social 2
verb.stative 2
verb.weather 2
adj.ppl 3"""


def wordnet_reader():
    """NLTK's WordNetCorpusReader over Debian's files plus a generated lexnames."""
    from nltk.corpus.reader.wordnet import WordNetCorpusReader
    root = tempfile.mkdtemp(prefix="vg_wordnet_")
    for name in os.listdir(WORDNET_DIR):
        os.symlink(os.path.join(WORDNET_DIR, name), os.path.join(root, name))
    with open(os.path.join(root, "lexnames"), "w") as f:
        for i, line in enumerate(LEXNAMES.split("\n")):
            name, category = line.split()
            f.write("%02d\t%s\t%s\n" % (i, name, category))
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "multilingual functions are not available": no OMW
        return WordNetCorpusReader(root, None)


class _PunktUnpickler(pickle.Unpickler):
    ALLOWED = {("nltk.tokenize.punkt", "PunktSentenceTokenizer"), ("nltk.tokenize.punkt", "PunktParameters"),
               ("nltk.tokenize.punkt", "PunktLanguageVars"), ("nltk.tokenize.punkt", "PunktToken"),
               ("collections", "defaultdict"), ("builtins", "set"), ("builtins", "int")}

    def find_class(self, module, name):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError("refusing %s.%s" % (module, name))
        return super().find_class(module, name)


def punkt_word_tokenize(path):
    """nltk.word_tokenize(text) with the given Punkt English pickle (sent_tokenize, then the word
    tokenizer on each sentence), or None."""
    if not path:
        return None
    from nltk.tokenize import NLTKWordTokenizer
    with open(path, "rb") as f:
        sentence_tokenizer = _PunktUnpickler(f).load()
    word_tokenizer = NLTKWordTokenizer()
    return lambda text: [t for s in sentence_tokenizer.tokenize(text) for t in word_tokenizer.tokenize(s)]


# Punkt parameters for the tests (not NLTK's English model): written in the punkt_tab layout and
# read back the way the C++ reads them. ortho flags: BEG_UC 2, MID_UC 4, UNK_UC 8, BEG_LC 16,
# MID_LC 32, UNK_LC 64.
PUNKT_TEST_ABBREVIATIONS = ["reps", "dr", "mr", "vs", "e.g", "i.e", "etc", "p.m", "a.m", "approx", "sec", "min",
                            "no", "st", "x", "u.s"]
PUNKT_TEST_COLLOCATIONS = [("##number##", "reps"), ("##number##", "sets"), ("j", "smith"), ("dr", "no")]
PUNKT_TEST_SENT_STARTERS = ["the", "keep", "then", "and", "bend"]
PUNKT_TEST_ORTHO = {"then": 2 | 32, "smith": 4, "rest": 16 | 32, "good": 8, "keep": 2 | 16, "bend": 2, "louis": 4 | 2,
                    "jones": 4, "army": 4 | 32, "next": 2 | 32 | 64, "go": 2 | 4 | 32, "is": 32 | 16}

PUNKT_TEXTS = [
    "Do 3 sets of 12 reps. Then rest.", "Do 12 reps. rest now.", "Do 3 sets. Then 12 reps. Keep going.",
    "Dr. Smith vs. Mr. Jones.", "Dr. No is a film. Dr. Who too.", "Ask J. Smith. Then go.", "Ask J. Bach. Then go.",
    "Count 1. 2. 3. Go.", "Step 1. bend the knees. Step 2. Keep going.", "Wait... Then go.", "Wait... then go.",
    "Wait... Go.", "He said (stop.) Then left.", "\"Stop.\" Then go.", "End.) Next.", "End.' Next.", "End.\") Next.",
    "A.B. C.D. E.", "e.g. this. i.e. that.", "No. 5 is next.", "It is 5 p.m. The end.", "It is 5 p.m. the end.",
    "Hello!! World?! Yes.", "Hi . . . there. Go.", "Hi. . . there. Go.", "x-ray. Then.", "-12. Then", "3.5. Next",
    "U.S. Army. Next.", "a\nb. c\n\nd. E", "etc. Then etc. then", "St. Louis. Ok.", "Approx. 5 min. Rest.",
    "Caf\u00e9. \u00c9lan. \u0152UVRE.", "\u00c9. \u00e9. 1. \u0661. _. a. B.", "Stop.--Go.", "Stop.-- Go.",
    "Stop.)-- Go.", "Stop.)\nGo.", "(Sent1.) Sent2.", "Sent1.  \n  Sent2.  \n", "  Leading. Trailing.  ",
    "No space.Next one. Last", "One. Two! Three? Four", "Wow!!! Really?!? Yes.", "x. Y. z. The end.",
    "mid-sentence vs. end. Then.", "3 sets x 12 reps. x. Next.", "i. ii. iii. iv. Next.", "He lifts 10 kg. good.",
    "He lifts 10 kg. Good.", "Keep going. keep going. KEEP GOING.", "Is it? is it. Is it!", ". . . .", "...", ".",
    "!", "?!", "a.", "A. B", "a . b", "\u2026 Then \u2026 then.", "First.\tSecond.\u00a0Third.\u2003Fourth.",
]


def write_punkt_test_folder(folder):
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "abbrev_types.txt"), "w", encoding="utf-8") as f:
        f.write("".join(a + "\n" for a in PUNKT_TEST_ABBREVIATIONS))
    with open(os.path.join(folder, "collocations.tab"), "w", encoding="utf-8") as f:
        f.write("".join("%s\t%s\n" % c for c in PUNKT_TEST_COLLOCATIONS))
    with open(os.path.join(folder, "sent_starters.txt"), "w", encoding="utf-8") as f:
        f.write("".join(w + "\n" for w in PUNKT_TEST_SENT_STARTERS))
    with open(os.path.join(folder, "ortho_context.tab"), "w", encoding="utf-8") as f:
        f.write("".join("%s\t%d\n" % kv for kv in sorted(PUNKT_TEST_ORTHO.items())))


def read_punkt_folder(folder):
    """PunktParameters from a punkt_tab folder: stripped non-empty lines (what the C++ does)."""
    from collections import defaultdict
    from nltk.tokenize.punkt import PunktParameters

    def lines(name):
        with open(os.path.join(folder, name), encoding="utf-8") as f:
            return [l.strip() for l in f.read().split("\n") if l.strip()]
    params = PunktParameters()
    params.abbrev_types = set(lines("abbrev_types.txt"))
    params.sent_starters = set(lines("sent_starters.txt"))
    params.collocations = set(tuple(x.strip() for x in l.split("\t", 1)) for l in lines("collocations.tab"))
    params.ortho_context = defaultdict(int)
    for l in lines("ortho_context.tab"):
        word, flags = l.split("\t", 1)
        params.ortho_context[word.strip()] = int(flags)
    return params


# ---- the reference report's exercise rules -------------------------------------------------------
# Restated from EdgeVLM-Labs/mobile-videogpt-adaptation: utils/generate_test_report.py (v1:
# extract_exercise_name, check_exercise_match) and utils/inference/generate_test_report.py (v2:
# DASH_CONTAIN_EXERCISES, _split_exercise_feedback, extract_exercise_name, extract_feedback_portion).
# The behaviour is the specification; the code below is written for this script.

def exercise_name_v1(text):
    # text.split('-')[0].strip().lower(), "" for an empty text.
    return text.split("-", 1)[0].strip().lower() if text else ""


DASH_NAMES = ("mountain-climbers",)
V2_SEPARATORS_AFTER_DASH_NAME = (" - ", " -", "- ", "-")


def split_exercise_feedback_v2(text):
    if not text:
        return "", ""
    stripped = text.strip()
    for name in DASH_NAMES:
        if stripped.lower().startswith(name):
            rest = stripped[len(name):]
            for separator in V2_SEPARATORS_AFTER_DASH_NAME:
                if rest.startswith(separator):
                    return name, rest[len(separator):].strip()
            return name, ""
    for separator in (" - ", "-"):
        if separator in text:
            head, tail = text.split(separator, 1)
            return head.strip(), tail.strip()
    return stripped, ""


def exercise_name_v2(text):
    return split_exercise_feedback_v2(text)[0].lower()


def exercise_match(gt, pred, extract):
    a, b = extract(gt), extract(pred)
    return bool(a) and bool(b) and a == b


def feedback_portion_v2(text):
    if not text:
        return ""
    parts, any_feedback = [], False
    for line in text.strip().split("\n"):
        line = line.strip()
        if not line:
            continue
        feedback = split_exercise_feedback_v2(line)[1]
        any_feedback = any_feedback or bool(feedback)
        parts.append(feedback or line)
    return "\n".join(parts) if any_feedback else ""


# ---- test texts ----------------------------------------------------------------------------------

EXERCISES = ["squats", "push-ups", "lunges", "elbow plank", "mountain-climbers", "cat-cow_pose",
             "tricep stretch (right arm)", "knee circles", "opposite arm and leg lifts on knees", "jumping jacks",
             "high knees", "burpees", "bicycle crunches", "glute bridge", "side plank", "wall sit", "Squats",
             "Mountain-Climbers", "ELBOW PLANK", "cat-cow pose"]

FEEDBACK = [
    "Push your knees out over your toes.", "Keep your back straight.", "Bend your knees more.",
    "You are bending your knees too much.", "Your knees bent inward.", "Lift your chest.", "Raise your chest up.",
    "Lower your hips slowly.", "Move faster.", "Go quicker.", "Speed up a bit and extend your arms more.",
    "User stopped the exercise early", "User is holding the stretch", "No obvious issue, good form!",
    "Don't lock your elbows.", "You're doing great; keep going.", "Keep your core tight and your hips level.",
    "Hips are sagging - engage your glutes.", "Avoid arching the lower back.", "Breathe out as you lift.",
    "Extend the arms fully at the top.", "Drive through the heels.", "The feet should be hip-width apart.",
    "speed=0.50 rps, arms_rom=4.0", "Keep the movement slow and controlled.", "Increase the range of motion.",
    "Stand tall with your shoulders relaxed.", "Your left knee caves in; push it outward.",
    "Tighter core, please.", "Fully straighten your legs between reps.", "Jump higher and land softly.",
    "Rotate your torso more.", "Keep your neck neutral.", "Squeeze the shoulder blades together.",
    "Hold the position for 30 seconds.", "Do 3 sets of 12 reps.", "Pause at the bottom for 1-2 seconds.",
    "The knees are going past the toes.", "Knees over toes is fine here.", "Keep the heel on the floor.",
]

HANDWRITTEN = [
    ("squats - Push your knees out over your toes.", "squats - Push your knees out over your toes."),
    ("squats - Push your knees out over your toes.", "squats - push knees outward over the toes"),
    ("squats - Bend your knees more.", "lunges - You are bending your knee too much."),
    ("push-ups - Keep your back straight.", "push-ups - keep the back straight and tight"),
    ("", ""),
    ("", "squats - Keep your back straight."),
    ("squats - Keep your back straight.", ""),
    ("   ", "..."),
    ("!!!", "?!"),
    ("Don't lock your elbows.", "Do not lock the elbows."),
    ("You're doing great; keep going.", "You are doing great, keep going!"),
    ("I can't see your feet. Can't you move closer?", "I cannot see your feet."),
    ("Gonna need more depth. Wanna try again?", "Gotta go deeper, lemme see it again."),
    ("'Tis a fine squat. 'Twas better before.", "It is a fine squat."),
    ("He said \"keep going\" and 'don't stop'.", "He said ``keep going'' and \u2018don\u2019t stop\u2019."),
    ("\u201cKeep your chest up,\u201d the coach said.", "\"Keep your chest up\", the coach said."),
    ("Caf\u00e9 stretch \u2014 na\u00efve form; r\u00e9sum\u00e9 later\u2026", "CAF\u00c9 stretch - naive form; resume later..."),
    ("Hold for 30 seconds (3 sets of 12 reps).", "hold 30 sec, 3x12 reps [rest 60s]"),
    ("Speed: 0.50 rps; arms_rom: 4.0; hips: 1,5 cm.", "speed=0.50 rps, arms_rom=4.0"),
    ("The well-known cat-cow pose helps the lower-back.", "The well known cat cow pose helps the lower back."),
    ("knee knee knee knees", "knees knee"),
    ("the the the the", "the"),
    ("bend bending bent bends", "bent bend bending"),
    ("quick", "fast"),
    ("lift your leg", "raise your leg"),
    ("Lift your arms quickly.", "Raise your arms fast."),
    ("The knees are bent.", "Bending the knee."),
    ("Lie on your back with your feet flat.", "Lying on the back, feet level."),
    ("She ran faster than the others.", "She runs fast."),
    ("Geese, mice and women went by.", "A goose, a mouse and a woman."),
    ("better best good", "well better"),
    ("Stop! Stop! Stop!", "stop stop stop"),
    ("e.g. keep the knees soft, i.e. not locked.", "for example keep the knees soft"),
    ("Dr. Smith says: relax. Mr. Jones disagrees.", "Dr Smith says relax."),
    ("Use a 5-kg dumbbell. Then 7.5 kg. Then 10 kg.", "use a 5 kg dumbbell then 10 kg"),
    ("Keep your back straight. Bend your knees. Look forward.", "Bend your knees. Look forward. Keep your back straight."),
    ("Keep your back straight.\nBend your knees.\nLook forward.", "Bend your knees.\nKeep your back straight."),
    ("First, warm up.Then stretch.", "First warm up. Then stretch."),
    ("Good job...keep it up...almost there.", "Good job... Keep it up."),
    ("(Keep your core tight.) Then lift.", "Keep your core tight. (Then lift.)"),
    ("Ask: \"Are you ready?\" Then start.", "Are you ready? Start."),
    ("Use 50% effort & rest 10s @ the top #form", "Use 50 % effort and rest 10 s at the top"),
    ("-- keep going --", "keep going"),
    ("mountain-climbers - Drive your knees to your chest.", "mountain-climbers- drive knees to chest"),
    ("Mountain-Climbers - Keep hips low.", "mountain-climbers -keep hips low"),
    ("mountain-climbers", "mountain climbers - keep going"),
    ("cat-cow_pose - Arch and round the spine slowly.", "cat-cow_pose - arch and round your spine slowly"),
    ("tricep stretch (right arm) - User is holding the stretch", "tricep stretch (left arm) - User is holding the stretch"),
    ("elbow plank - User stopped the exercise early", "elbow plank - User stopped early"),
    ("squats-keep going", "Squats - keep going"),
    ("  squats  -  keep going  ", "SQUATS-"),
    ("- no exercise name", "squats - -"),
    ("squats \u2013 keep going", "squats - keep going"),
    ("\u0130stanbul squats", "istanbul squats"),
    ("\u212a\u00e9lvin's stretch", "kelvin's stretch"),
    ("\u039f\u0394\u03a5\u03a3\u03a3\u0395\u03a5\u03a3 stretch", "\u03bf\u03b4\u03c5\u03c3\u03c3\u03b5\u03c5\u03c2 stretch"),
    ("Stra\u00dfe \u00c5ngstr\u00f6m \u00c6sir", "strasse angstrom aesir"),
    ("Keep \u00a0 your\tback\nstraight\u2003please", "keep your back straight please"),
    ("His knee's fine; the knees' angle isn't.", "His knee is fine; the knees angle is not."),
    ("They'll lift, we'd squat, I'm resting, you've done it.", "they will lift we would squat"),
    ("AREN'T YOU TIRED? I'LL REST.", "aren't you tired? i'll rest."),
    ("Rest 1:30 between sets, 2,5 kg plates.", "rest 1 : 30 between sets , 2,5 kg"),
    ("Ratio 3:2, tempo 2-0-2.", "tempo 2-0-2 ratio 3 : 2"),
    ("Keep going,", "keep going :"),
    ("Is that it?", "That is it."),
    ("'quoted' and ''double quoted''", "quoted and double quoted"),
    ("`backtick` and ``double``", "backtick and double"),
    ("a ' b ' c", "a b c"),
    ("O'Neil's squat", "ONeils squat"),
    ("rock 'n' roll", "rock and roll"),
    ("it's", "it is"),
    ("cannot, Cannot, CANNOT", "can not"),
    ("\u00abguillemets\u00bb and \u201equotes\u201c", "guillemets and quotes"),
    ("\u2018single\u2019 curly", "single curly"),
    ("x * y = z; a < b > c { d } [e]", "x times y equals z"),
    ("ɪ ɐ ʊ ɛ", "ipa symbols"),
    ("数字 123 テスト", "123"),
    ("\U0001F600 great job \U0001F44D", "great job"),
    ("Hyper-extension of the knee; hyperextension is bad.", "hyper extension of knee"),
    ("Generously stretching; generalization; conditional relational", "generous stretch general condition relate"),
    ("skies dying lying tying news innings outings cannings proceed exceed succeed",
     "sky die lie tie news inning outing canning proceeding exceeding succeeding"),
]

# Word families that exercise stemming and WordNet matching.
SYNONYM_SWAPS = [("quick", "fast"), ("quickly", "fast"), ("lift", "raise"), ("lifting", "raising"), ("bend", "flex"),
                 ("straight", "direct"), ("keep", "maintain"), ("move", "displace"), ("slowly", "easy"),
                 ("knees", "knee"), ("bending", "bent"), ("lower", "lour"), ("chest", "thorax"), ("hips", "hip"),
                 ("back", "backward"), ("push", "force"), ("tight", "taut"), ("arms", "weapons"), ("feet", "foot"),
                 ("legs", "leg"), ("stop", "halt"), ("start", "begin"), ("jump", "leap"), ("rest", "remainder"),
                 ("good", "well"), ("great", "big"), ("form", "shape"), ("hold", "keep"), ("extend", "stretch"),
                 ("look", "appear"), ("high", "gamey"), ("raise", "lift"), ("toes", "toe"), ("elbows", "elbow")]


def random_pairs(rng, count):
    """Templated feedback pairs: one side is recombined from the other with swaps and drops."""
    pairs = []
    for _ in range(count):
        exercise = rng.choice(EXERCISES)
        sentences = rng.sample(FEEDBACK, rng.choice([1, 1, 1, 2, 3]))
        reference = "%s - %s" % (exercise, " ".join(sentences))
        words = " ".join(sentences).split()
        out = []
        for w in words:
            r = rng.random()
            core = w.strip(".,;!?").lower()
            swap = [b for a, b in SYNONYM_SWAPS if a == core]
            if swap and r < 0.5:
                out.append(swap[0] + w[len(core):] if w.lower().startswith(core) else swap[0])
            elif r < 0.08:
                continue  # drop a word
            elif r < 0.14:
                out.append(w.upper())
            elif r < 0.18:
                out.append(w + " " + w)  # a repeat
            else:
                out.append(w)
        if rng.random() < 0.3:
            rng.shuffle(out)  # word-order changes: fragmentation
        other_exercise = exercise if rng.random() < 0.7 else rng.choice(EXERCISES)
        separator = rng.choice([" - ", " - ", " - ", "-", " -", ": "])
        prediction = other_exercise + separator + " ".join(out)
        if rng.random() < 0.15:
            prediction = prediction.replace(". ", ".\n")
        if rng.random() < 0.5:
            pairs.append((reference, prediction))
        else:
            pairs.append((prediction, reference))
    return pairs


def long_pairs(rng, count):
    """Long multi-sentence texts."""
    pairs = []
    for _ in range(count):
        a = " ".join(rng.sample(FEEDBACK, rng.randint(4, 9)))
        b = " ".join(rng.sample(FEEDBACK, rng.randint(4, 9)))
        pairs.append((rng.choice(EXERCISES) + " - " + a, rng.choice(EXERCISES) + " - " + b))
    return pairs


TOKENIZER_EXTRA = [
    "Good muffins cost $3.88\nin New York.  Please buy me\ntwo of them.\nThanks.",
    "They'll save and invest more.", "hi, my name can't hello,", "The quick (\"brown\") fox can't jump 32.3 feet, right?",
    "\"I don't know\", he said.", "'s 'm 'd 'll 're 've n't", "a'b 'c 'd 'e 'a 'A 'Z 'ab", "'x", "x'", "x' ", "'",
    "''", "\"", "\"\"", "`", "``", "```", "````", "a``b", "a''b", "a\"b", "(\"a\")", "[\"a\"]", "{''a''}", "<\"a\">",
    "end.", "end. ", "end.  \n", "end.\n\n", "end.)", "end.) ", "end.\"", "end.'\"", "end.\u201d", "end.\u2019 ", "end.\u00bb",
    "end. )", "end. x", "end..", "end...", "a..b", "a...b....c", "end .", ".", "..", " . ", "a.", "a.b.", "U.S.A.",
    "3.14", "1,000,000", "1,a", ",a", "a,", "a:", "a:b", "1:2", "a:1", ":,", ",,", "::", "a,\n", "a:\n", "a,\n\n",
    "x;y@z#w$v%u&t", "*bold*", "a--b", "a---b", "a----b", "--", "what?!", "why??", "a!b", "-LRB-", "(a) [b] {c} <d>",
    "cannot Cannot CANNOT canNot cannotx xcannot", "d'ye D'Ye", "gimme gonna gotta lemme more'n wanna wannabe",
    "wanna\n", "wanna", "'tis 'Tis 'TIS 'twas 'Twas 'tisn't", " 'tis", "x'tis", "can't won't shan't ain't",
    "I'M YOU'RE WE'VE THEY'LL SHE'D HE'S IT'S ISN'T", "I'm you're we've they'll she'd he's it's isn't",
    "rock 'n' roll", "o'clock", "'90s", "90's", "Jones'", "Jones' car", "the boys' toys", "can't've", "y'all",
    "\u00abhi\u00bb", "\u201chi\u201d", "\u2018hi\u2019", "\u201ehi\u201c", "it\u2019s", "don\u2019t", "\u2019tis",
    "\u00e9t\u00e9 na\u00efve caf\u00e9", "\u0130I\u0131i", "\u017fs \u212ak", "\u2018\u017f \u2019\u017f ",
    "'\u00e9 'ab", "'\u00b0 '\u2122", "a\u00a0b\u2003c\u3000d\u2028e", "\t\ttabs\t", "\u0660\u0661,\u0662", ",\u0663",
    "\u0661:\u0662", "a\u0301b", "'\u0301", "ca\u0301nnot", "\u00e9cannot", "cannot\u00e9", "\u4e2d\u6587\uff0c\u6d4b\u8bd5\u3002",
    "\U0001F600'\U0001F600", "\u00bd", "'\u00bd", "x\u00b2", "'\u2460", "\ufb01nish", "'\uff21",
    "", " ", "\n", "a", "A B C", "multiple   spaces\nand\nlines", "trailing spaces   ", "  leading spaces",
    "Question? Answer! Statement. Another one.", "He said, \"Stop.\" Then left.", "(Sent1.) Sent2.",
    "e.g. this, i.e. that, etc. and so on.", "Mr. Smith vs. Dr. Jones at 5 p.m. today.",
]


def build_tokenizer_cases(texts):
    """NLTKWordTokenizer().tokenize(text) for every distinct text; the convert_parentheses=True
    tokens only where they differ."""
    from nltk.tokenize import NLTKWordTokenizer
    t = NLTKWordTokenizer()
    cases = []
    for text in texts:
        tokens = t.tokenize(text)
        converted = t.tokenize(text, convert_parentheses=True)
        cases.append([text, tokens] + ([converted] if converted != tokens else []))
    return cases


def build_punkt_cases(texts, test_params):
    """PunktSentenceTokenizer(...).span_tokenize(text), untrained and with the test parameters."""
    from nltk.tokenize.punkt import PunktSentenceTokenizer
    untrained = PunktSentenceTokenizer()
    tested = PunktSentenceTokenizer()
    tested._params = test_params
    return [[text, [list(x) for x in untrained.span_tokenize(text)], [list(x) for x in tested.span_tokenize(text)]]
            for text in texts]


PORTER_EXTRA = [
    "caresses", "ponies", "ties", "caress", "cats", "feed", "agreed", "plastered", "bled", "motoring", "sing",
    "conflated", "troubled", "sized", "hopping", "tanned", "falling", "hissing", "fizzed", "failing", "filing",
    "happy", "sky", "relational", "conditional", "rational", "valenci", "hesitanci", "digitizer", "conformabli",
    "radicalli", "differentli", "vileli", "analogousli", "vietnamization", "predication", "operator", "feudalism",
    "decisiveness", "hopefulness", "callousness", "formaliti", "sensitiviti", "sensibiliti", "triplicate",
    "formative", "formalize", "electriciti", "electrical", "hopeful", "goodness", "revival", "allowance",
    "inference", "airliner", "gyroscopic", "adjustable", "defensible", "irritant", "replacement", "adjustment",
    "dependent", "adoption", "homologou", "communism", "activate", "angulariti", "homologous", "effective",
    "bowdlerize", "probate", "rate", "cease", "controll", "roll", "generously", "generalizations", "oscillators",
    "dies", "died", "lies", "lied", "spies", "spied", "flies", "tried", "enjoy", "enjoyment", "carefulli",
    "analogi", "theologi", "logi", "alli", "ally", "bli", "abli", "ies", "ied", "eed", "ing", "ed", "s", "ss",
    "y", "yy", "yyy", "ay", "ya", "by", "sly", "syzygy", "toy", "toys", "youth", "", "a", "is", "as", "us",
    "oed", "eing", "ying", "hoping", "hopped", "filer", "cvc", "wow", "box", "day", "xed", "ion", "sion",
    "tion", "adoption", "vision", "opinion", "a*d", "ab*d", "zzz*d", "Running", "RUNNING", "Sky", "SKIES",
    "news", "innings", "inning", "outings", "cannings", "canning", "howe", "proceed", "exceed", "succeed",
    "dying", "lying", "tying", "skies", "proceeding", "exceeding", "succeeding", "na\u00efvety", "caf\u00e9s",
    "r\u00e9sum\u00e9s", "\u00fcberalles", "stra\u00dfe", "\u0130nning", "\u212aelvins", "\u00e9\u00e9\u00e9ing",
    "\u4e2d\u6587s", "1990s", "3rd", "running2", "2running", "abc123ing", "quickly", "fastest", "faster",
    "bent", "bending", "bends", "knees", "raised", "raising", "lifted", "lifting", "straighten", "straightened",
]


def build_porter_words(reader, tokens):
    words = set(PORTER_EXTRA)
    for tok in tokens:
        words.add(tok)
        words.add(tok.lower())
    # A deterministic sample of WordNet's single-word lemmas with suffixes that reach the rules.
    lemmas = sorted(l for l in reader.all_lemma_names() if "_" not in l and "-" not in l)
    rng = random.Random(7)
    suffixes = ["", "s", "es", "ed", "ing", "er", "est", "ly", "ness", "ation", "ational", "ize", "izing", "ful",
                "fulness", "ousness", "iveness", "ility", "ment", "ments", "ence", "ance", "able", "ible", "ism",
                "ist", "ical", "icate", "ative", "alize", "iciti", "ent", "ant", "ion", "ions", "ous", "ive", "y",
                "ies", "ied", "alli", "entli", "eli", "ousli", "biliti", "logi", "fulli", "bli", "e", "ll"]
    for lemma in rng.sample(lemmas, 900):
        words.add(lemma)
        words.add(lemma + rng.choice(suffixes))
    return sorted(words)


def build_porter_cases(words):
    """[word, NLTK_EXTENSIONS stem, MARTIN_EXTENSIONS, ORIGINAL_ALGORITHM, NLTK with
    to_lowercase=False]; the last three are null where they equal the NLTK stem."""
    from nltk.stem.porter import PorterStemmer
    nltk_mode = PorterStemmer(PorterStemmer.NLTK_EXTENSIONS)
    martin = PorterStemmer(PorterStemmer.MARTIN_EXTENSIONS)
    original = PorterStemmer(PorterStemmer.ORIGINAL_ALGORITHM)
    cases = []
    for w in words:
        stem = nltk_mode.stem(w)
        others = [martin.stem(w), original.stem(w), nltk_mode.stem(w, to_lowercase=False)]
        cases.append([w, stem] + [o if o != stem else None for o in others])
    return cases


WORDNET_EXTRA = [
    "bend", "bending", "bent", "bends", "knee", "knees", "quick", "fast", "faster", "fastest", "quickly", "lift",
    "lifted", "raise", "raising", "feet", "foot", "geese", "mice", "women", "men", "children", "better", "best",
    "worse", "worst", "ran", "run", "running", "went", "gone", "was", "were", "is", "are", "be", "been", "lying",
    "lay", "lain", "leaves", "axes", "ashes", "churches", "boxes", "buzzes", "dishes", "wolves", "aardwolves",
    "abaci", "hardrock", "book", "books", "dogs", "flies", "died", "dying", "hoped", "hoping", "hopped",
    "stopping", "happier", "happiest", "bigger", "biggest", "nicer", "nicest", "denied", "boxing", "fixes",
    "analyses", "crises", "data", "media", "phenomena", "alumni", "cacti", "fungi", "oxen", "teeth", "lice",
    "dormice", "backs", "straight", "straighter", "keep", "kept", "hold", "held", "chest", "hips", "core",
    "glutes", "glute", "squat", "squats", "squatting", "lunge", "lunges", "plank", "planks", "push", "pushup",
    "push-up", "sit-up", "warm-up", "u.s.", "U.S.", "Sunday", "sunday", "mr", "dr", "u", "a", "i", "an", "the",
    "of", "and", "to", "in", "it", "you", "your", "not", "n't", "'s", "'re", ".", ",", "", "-", "_", "a_b",
    "ice_cream", "ice cream", "caf\u00e9", "\u00e9", "\u0130", "KNEE", "Knees", "bEnT", "ses", "ves", "xes",
    "zes", "ches", "shes", "men", "ies", "s", "es", "ed", "ing", "er", "est", "sses", "eses", "esses", "ingings",
    "edeses", "eseseseses", "ingeding", "gamey", "lour", "thorax", "taut", "halt", "leap", "well", "good",
    "shape", "form", "stretch", "extend", "appear", "look", "toe", "toes", "elbow", "elbows", "weapons", "arms",
    "displace", "maintain", "easy", "slowly", "flex", "direct", "force", "begin", "remainder", "big", "great",
    "backward", "hip", "leg", "legs", "tight", "high", "bad", "ill", "little", "less", "least", "more", "most",
    "further", "farther", "furthest", "elder", "eldest", "bit", "bitten", "ate", "eaten", "saw", "seen", "sang",
    "sung", "swam", "swum", "rose", "risen", "fell", "fallen", "felt", "found", "got", "gotten", "did", "done",
    "had", "has", "made", "said", "took", "taken", "came", "gave", "given", "stood", "spoke", "spoken", "wore",
    "worn", "wound", "lead", "led", "read", "left", "right", "skies", "sky", "news", "innings", "proceed", "hopeful",
    "generously", "quit", "quitting", "sped", "speeded", "sprang", "strove", "striven", "thrived", "throve",
]


def build_wordnet_cases(reader, texts, porter_words):
    """Per word: morphy(word); _morphy(word, pos) for n, v, a, r (and with check_exceptions=False
    where that differs); synsets(word) as (data file pos, offset); METEOR's synonym set; the
    lemma names of the first synsets of some words."""
    from nltk.stem.porter import PorterStemmer
    stemmer = PorterStemmer()
    words = set(WORDNET_EXTRA)
    for text in texts[:100]:
        for w in text.split():
            w = w.strip(".,;!?\"'()").lower()
            words.add(w)
            words.add(stemmer.stem(w))
    rng = random.Random(11)
    words.update(rng.sample([w for w in porter_words if w.isascii()], 120))
    for pos in "nvar":  # exception-list entries of every part of speech
        exc = sorted(reader._exception_map[pos])
        words.update(rng.sample(exc, min(20, len(exc))))
    cases = []
    for i, w in enumerate(sorted(words)):
        morphy = {}
        for pos in "nvar":
            forms = reader._morphy(w, pos)
            plain = reader._morphy(w, pos, check_exceptions=False)
            morphy[pos] = [forms] + ([plain] if plain != forms else [])
        synsets = reader.synsets(w)
        case = {"word": w, "morphy": reader.morphy(w), "pos": morphy,
                # A satellite's pos() is 's'; the C++ names the data file it is in ('a').
                "synsets": [[s.pos() if s.pos() != "s" else "a", s.offset()] for s in synsets],
                "synonyms": sorted(set(l.name() for s in synsets for l in s.lemmas() if l.name().find("_") < 0))}
        if i % 4 == 0:
            case["lemma_names"] = [s.lemma_names() for s in synsets[:3]]
        cases.append(case)
    return cases


def python_text_tables():
    """The character classes and lowercase mapping of this Python (what src/eval/python_text.cpp holds)."""
    def ranges(pred):
        out, start = [], None
        for cp in range(0x110000):
            p = pred(chr(cp))
            if p and start is None:
                start = cp
            if not p and start is not None:
                out.append([start, cp - 1])
                start = None
        if start is not None:
            out.append([start, 0x10FFFF])
        return out
    w, d, s = re.compile(r"\w"), re.compile(r"\d"), re.compile(r"\s")
    ic = re.compile(r"(?i)[a-z]")
    ignorecase = {}
    for cp in range(0x110000):
        c = chr(cp)
        if ic.match(c):
            for letter in "abcdefghijklmnopqrstuvwxyz":
                if re.match("(?i)" + letter, c):
                    ignorecase.setdefault(letter, []).append(cp)
    lower = [[cp, [ord(x) for x in chr(cp).lower()]] for cp in range(0x110000) if chr(cp).lower() != chr(cp)]
    sigma = ["\u03a3", "A\u03a3", "A\u03a3B", "\u03a3A", "\u039f\u0394\u03a5\u03a3\u03a3\u0395\u03a5\u03a3",
             "\u03a3\u03a3", "A\u03a3 B\u03a3", "1\u03a3", "A\u03a3."]
    return {"python": sys.version.split()[0], "unicode": unicodedata.unidata_version,
            "word": ranges(lambda c: w.match(c) is not None), "decimal": ranges(lambda c: d.match(c) is not None),
            "space": ranges(lambda c: s.match(c) is not None), "isspace": ranges(str.isspace),
            "isupper": ranges(str.isupper), "islower": ranges(str.islower),
            # Final sigma context: where (c + "Σ"), ("A" + c + "Σ") and ("AΣ" + c) lowercase the
            # sigma to "ς" (what Cased and Case_Ignorable decide in CPython).
            "sigma_after_c": ranges(lambda c: (c + "\u03a3").lower()[-1] == "\u03c2"),
            "sigma_after_a_c": ranges(lambda c: ("A" + c + "\u03a3").lower()[-1] == "\u03c2"),
            "sigma_before_c": ranges(lambda c: ("A\u03a3" + c).lower()[1] == "\u03c2"),
            "lower": lower, "ignorecase": ignorecase,
            "lower_strings": [[t, t.lower()] for t in sigma]}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rouge-path", default="/tmp/rouge_score", help="folder holding the rouge_score package")
    parser.add_argument("--punkt", default="", help="nltk_data tokenizers/punkt/PY3/english.pickle (optional)")
    args = parser.parse_args()
    sys.path.insert(0, args.rouge_path)

    import nltk
    from nltk.tokenize import NLTKWordTokenizer
    from nltk.tokenize.punkt import PunktSentenceTokenizer
    from nltk.translate import meteor_score as meteor
    from rouge_score import rouge_scorer

    assert nltk.__version__ == "3.8", nltk.__version__
    reader = wordnet_reader()
    punkt_folder = os.path.join(OUT, "punkt_test")
    write_punkt_test_folder(punkt_folder)
    test_params = read_punkt_folder(punkt_folder)
    word_tokenizer = NLTKWordTokenizer()
    untrained = PunktSentenceTokenizer()
    tested = PunktSentenceTokenizer()
    tested._params = test_params

    def split_then_tokenize(sentence_tokenizer):
        return lambda text: [t for s in sentence_tokenizer.tokenize(text) for t in word_tokenizer.tokenize(s)]
    tokenizations = {"meteor": word_tokenizer.tokenize, "meteor_punkt_untrained": split_then_tokenize(untrained),
                     "meteor_punkt_test": split_then_tokenize(tested)}
    english = punkt_word_tokenize(args.punkt)
    if english is not None:
        tokenizations["meteor_punkt_english"] = english
    types = ["rouge1", "rouge2", "rougeL", "rougeLsum"]
    scorers = {False: rouge_scorer.RougeScorer(types, use_stemmer=False),
               True: rouge_scorer.RougeScorer(types, use_stemmer=True)}

    rng = random.Random(2024)
    pairs = list(HANDWRITTEN) + random_pairs(rng, 200) + long_pairs(rng, 20)
    records = []
    for reference, prediction in pairs:
        record = {"reference": reference, "prediction": prediction}
        for key, tokenize in tokenizations.items():
            ref_tokens, pred_tokens = tokenize(reference), tokenize(prediction)
            record[key] = meteor.single_meteor_score(ref_tokens, pred_tokens, wordnet=reader, alpha=0.9, beta=3,
                                                     gamma=0.5)
        # NLTK's alignment for the preserve_line tokens: which words matched which.
        hyp_enum, ref_enum = meteor._generate_enums(word_tokenizer.tokenize(prediction),
                                                    word_tokenizer.tokenize(reference))
        matches, _, _ = meteor._enum_align_words(hyp_enum, ref_enum, wordnet=reader)
        record["meteor_matches"] = [list(m) for m in matches]
        for stem, key in ((False, "rouge"), (True, "rouge_stemmed")):
            scores = scorers[stem].score(reference, prediction)
            record[key] = [[scores[t].precision, scores[t].recall, scores[t].fmeasure] for t in types]
        record["exercise_v1"] = [exercise_name_v1(reference), exercise_name_v1(prediction),
                                 exercise_match(reference, prediction, exercise_name_v1)]
        record["exercise_v2"] = [exercise_name_v2(reference), exercise_name_v2(prediction),
                                 exercise_match(reference, prediction, exercise_name_v2)]
        record["feedback_v2"] = [feedback_portion_v2(reference), feedback_portion_v2(prediction)]
        records.append(record)

    texts = []
    for text in [t for pair in pairs for t in pair] + TOKENIZER_EXTRA + PUNKT_TEXTS:
        if text not in texts:
            texts.append(text)
    tokenizer_cases = build_tokenizer_cases(texts)
    porter_words = build_porter_words(reader, [t for case in tokenizer_cases for t in case[1]])
    outputs = {
        "metric_pairs.json": {"nltk": nltk.__version__, "rouge_score": "0.1.2", "rouge_types": types,
                              "pairs": records},
        "word_tokens.json": {"nltk": nltk.__version__, "cases": tokenizer_cases},
        "punkt.json": {"nltk": nltk.__version__, "cases": build_punkt_cases(texts, test_params)},
        "porter_stems.json": {"nltk": nltk.__version__, "cases": build_porter_cases(porter_words)},
        "wordnet.json": {"nltk": nltk.__version__, "wordnet": WORDNET_DIR,
                         "cases": build_wordnet_cases(reader, texts, porter_words)},
        "python_text.json": python_text_tables(),
    }
    total = 0
    for name, content in outputs.items():
        path = os.path.join(OUT, name)
        with open(path, "w", encoding="utf-8") as f:
            json.dump(content, f, ensure_ascii=False, separators=(",", ":"))
            f.write("\n")
        total += os.path.getsize(path)
        print("%-20s %7.1f KB" % (name, os.path.getsize(path) / 1024))
    print("%-20s %7.1f KB, %d pairs, %d texts" % ("total", total / 1024, len(records), len(texts)))
    for key in tokenizations:
        differ = sum(r[key] != r.get("meteor_punkt_english", r[key]) for r in records)
        if english is not None:
            print("%-24s differs from evaluate's (English Punkt) METEOR on %d of %d pairs" % (key, differ, len(records)))


if __name__ == "__main__":
    main()
