/* extract_lex.h — the vocabulary of administrative headers: document types
 * and their abbreviations (Nghị định 30/2020 Phụ lục III, Hướng dẫn
 * 36-HD/VPTW), names of provinces and bodies, signer titles; and the
 * repair of OCR'd header text against it.
 */
#ifndef SOHOA_EXTRACT_LEX_H
#define SOHOA_EXTRACT_LEX_H

#include <stdbool.h>
#include <stddef.h>

typedef struct doc_type {
    const char *name;       /* sentence case, as in metadata.json ("Quyết định") */
    const char *state_code; /* abbreviation in "Số: 12/QĐ-UBND", NULL if none */
    const char *party_code; /* abbreviation in "Số 12-QĐ/TU", NULL if none */
} doc_type;

extern const doc_type lex_types[];
extern const size_t lex_ntypes;

/* Index of the type whose title matches the fold of a title line (letters
 * only, tolerant to one OCR error per 6 letters), or -1. *dist receives the
 * edit distance. */
int lex_type_by_title(const char *title, int *dist);

/* Index of the type with abbreviation `code` (compared on folds: QD = QĐ)
 * in the given format (party or state), or -1. With `ambiguous` set when
 * two types share the fold (HD: Hướng dẫn / HĐ: Hợp đồng). */
int lex_type_by_code(const char *code, bool party, bool *ambiguous);

/* Canonical spelling of a code in a format ("QD" → "QĐ"), or NULL when
 * unknown or ambiguous. */
const char *lex_code_spelling(const char *code, bool party);

/* Repairs header text against the vocabulary: a run of whole words whose
 * letters fold to a known name ("TINH QUANG NAM", "SỞY TẾ", "LJBND") is
 * replaced by the name with its diacritics, in upper case when the run was
 * upper case. Returns a malloc'd string (NULL on ENOMEM); *changed counts
 * replaced runs whose text actually changed. */
char *lex_repair(const char *text, int *changed);

/* lex_repair(), then the runs of whole words left whose letters are one
 * OCR error in eight from exactly one long name's ("ÓÝ BAN NHÂN DÂN",
 * "SỞ?ÉƯ PHÁP" for SỞ TƯ PHÁP): for a body's name, whose words are the
 * vocabulary's, not for free text. */
char *lex_repair_loose(const char *text, int *changed);

/* True when the fold of a line starts with an organisation head noun
 * ("SỞ", "BAN", "ỦY BAN", "VĂN PHÒNG" ...): a new body in the left header
 * column, as opposed to a continuation ("TỈNH QUẢNG NAM", "VÀ XÃ HỘI"). */
bool lex_starts_body(const char *fold);

/* Whether `place` is not a province's name but a letter or two away from
 * one ("Hiệu Giang" for Hậu Giang), or its first words only ("Lai" of Lai
 * Châu): an OCR error the repair by marks cannot mend, a word lost, or a
 * district's name that looks like it. Either way, one to check. */
bool lex_near_province(const char *place);

/* The province `text` names, spaces aside ("son la" and "SơnLa" name Sơn
 * La; "Thành phố Hồ Chí Minh" keeps its "Thành phố"), in the lexicon's
 * spelling (malloc'd), or NULL when it names none or on ENOMEM. */
char *lex_province_named(const char *text);

/* The province the last words of `text` name ("ỦY BAN NHÂN DÂN TỈNH
 * KIÊN GIANG" → "Kiên Giang", "UBND THÀNH PHỐ HỒ CHÍ MINH" → "Thành phố
 * Hồ Chí Minh"), as lex_province_named; NULL when they name none. */
char *lex_province_ending(const char *text);

/* The province `text` names with its first letter lost or misread
 * ("hành phố Hồ Chí Minh", "ihành phố Hồ Chí Minh": the T run into the
 * notation before it), when exactly one does; as lex_province_named.
 * Sets *several when more than one could be meant ("iên Giang": Kiên or
 * Tiền), and then returns NULL. */
char *lex_province_named_loosely(const char *text, bool *several);

/* Whether `issuer` is a department or ministry ("SỞ", "BỘ") whose sector
 * lacks a word of a sector's name ("SỞ CÔNG" for SỞ CÔNG THƯƠNG, "THƯƠNG
 * VÀ" without BINH): the OCR lost a word, and the issuer is to be
 * checked. */
bool lex_sector_short(const char *issuer);

/* The word that goes on from a body's name cut short at the end of
 * `line` ("BỘ KHOA HỌC VÀ CÔNG"), given `frag`, the letters of that word
 * as the OCR read its start (folded: "ngh" of a "NGH" glued to the
 * motto). Found when exactly one name of the lexicon runs on from the
 * line's last two or more words with a word that starts like `frag`;
 * returned in capitals (malloc'd; NULL when none or several, or on
 * ENOMEM). */
char *lex_complete_name(const char *line, const char *frag);

#endif
