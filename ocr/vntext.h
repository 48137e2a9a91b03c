/* vntext.h — Vietnamese text for the header reader: normalisation, folding
 * and tolerant comparison.
 *
 * OCR of Vietnamese scans delivers NFC or NFD, old ("hoà", "UỶ") or modern
 * ("hòa", "ỦY") tone placement, and loses or confuses diacritics. Output
 * must be NFC in the placement the State documents use (interfaces.md), and
 * rules must match words whatever their marks: every comparison is made on
 * a "fold" (lower-case ASCII, one byte per code point, đ → d) that keeps an
 * offset table back into the normalised text, so a match on the fold can
 * cut the printed text.
 */
#ifndef SOHOA_VNTEXT_H
#define SOHOA_VNTEXT_H

#include <stdbool.h>
#include <stddef.h>

/* NFC with the tone of an open "oa", "oe", "uy" syllable placed on the first
 * vowel (UỶ → ỦY, hoà → hòa, xoá → xóa, thuỷ → thủy, khoẻ → khỏe); "quý",
 * "hoàng", "thuyết" are untouched. The engine's look-alike Ð/ð (eth) becomes
 * Đ/đ. Invalid UTF-8 bytes become U+FFFD.
 * Returns a malloc'd string, or NULL on ENOMEM. */
char *vn_normalize(const char *s);

/* A normalised text and its fold. fold[i] is the ASCII image of the i-th
 * visible code point of `text`; it covers text bytes [off[i], off[i+1]),
 * combining marks included. */
typedef struct vn_text {
    char *text;
    char *fold;
    size_t *off; /* nfold + 1 entries */
    size_t nfold;
} vn_text;

/* Normalises `s` (vn_normalize) and folds it. Returns 0 or -1 on ENOMEM
 * (then `t` is zeroed). */
int vn_text_init(vn_text *t, const char *s);
void vn_text_free(vn_text *t);

/* The fold of one string, without offsets (malloc'd, NULL on ENOMEM). */
char *vn_fold(const char *s);

/* Upper / lower / title case of NFC text (malloc'd, NULL on ENOMEM). */
char *vn_upper(const char *s);
char *vn_lower(const char *s);
/* "NGUYỄN văn a" → "Nguyễn Văn A". */
char *vn_title(const char *s);

/* Letters (any script) and their case in `s`: counts, for the
 * all-capitals and title-case tests. */
typedef struct vn_case_stats {
    int letters, upper, lower;
    int words, words_capitalised; /* words whose first letter is upper */
    int marked;                   /* letters carrying a diacritic */
} vn_case_stats;
void vn_case_count(const char *s, vn_case_stats *st);

/* Share of upper-case letters among the letters of s (0 when none). */
float vn_upper_share(const char *s);

/* Levenshtein distance of two short strings (bytes), capped at `cap`+1. */
int vn_edit_distance(const char *a, const char *b, int cap);

/* Tolerant word equality on folds: exact, or within one edit for words of
 * five letters or more (OCR noise: "thang" for "tháng", "ngav" for "ngày"). */
bool vn_fold_like(const char *fold, const char *want);

/* Whether `word` can be one Vietnamese syllable or an acronym as OCR reads
 * them: at most one tone mark ("ĐẢẲNG" has two: a misread), and not two
 * syllables glued into one long word ("TỈNHQUẢNG": more than seven letters
 * in two vowel groups). Punctuation is ignored. */
bool vn_word_plausible(const char *word);

/* Number of UTF-8 code points. */
size_t vn_utf8_len(const char *s);

#endif
