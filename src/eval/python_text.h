// Python 3 `str` semantics that the reference metrics depend on, for exact parity: the
// character classes of `re` patterns on str (\w, \d, \s), str.isspace/str.split(),
// str.isupper/islower and str.lower(). The tables are those of CPython 3.11 (Unicode 14.0),
// the Python that runs the references; tools/reference/make_metric_goldens.py dumps them and
// tests/eval checks every code point against that dump.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace vg::eval {

// Code points of UTF-8 text. Invalid UTF-8 becomes U+FFFD (one per maximal invalid subpart), as
// Python does with errors="replace"; the references only ever see valid text.
std::u32string decode_utf8(std::string_view text);
std::string encode_utf8(std::u32string_view text);

// re's \s on str, str.isspace() and the separators of str.split(): the same set in CPython.
bool is_py_space(char32_t cp);
// re's \w on str: str.isalnum() or '_'.
bool is_py_word(char32_t cp);
// re's \d on str: str.isdecimal() (Unicode general category Nd).
bool is_py_decimal(char32_t cp);

// str.isupper() / str.islower() of a one-character string.
bool is_py_upper(char32_t cp);
bool is_py_lower(char32_t cp);

// str.lower(): the full lowercase mapping (U+0130 becomes "i\u0307"), and Greek capital sigma
// becomes final sigma at the end of a word as CPython decides it (Cased, Case_Ignorable).
std::u32string py_lower(std::u32string_view text);
std::string py_lower_utf8(std::string_view text);

// str.split() with no arguments: runs of is_py_space separate, empty pieces are dropped.
std::vector<std::u32string> py_split(std::u32string_view text);

// Case-insensitive match of one character against an ASCII letter, as `re.IGNORECASE` on str
// does it: simple lowercase equality plus CPython's extra equivalences (i ~ U+0131, s ~ U+017F).
bool py_ignorecase_equals(char32_t cp, char ascii_lower_letter);

}  // namespace vg::eval
