/* upright_rule.h — a stamp's frame standing through a handwritten blank.
 *
 * The registry's ĐẾN stamp is often pressed next to the date line, and its
 * left side runs down through the day's blank, across the pen's second
 * digit ("27", "21", "20" read as "2"). The side is a thin straight line,
 * leaning with the stamp by a few degrees, in whatever ink the stamp
 * took: red, the pen's own blue, or the gray of a gray scan. A digit is
 * never as tall as the blank; the side runs through all of it.
 *
 * The side is found in the mask of all ink (whatever its colour), fitted
 * as a leaning line, and taken out of the pen's mask; where a stroke of
 * the writing crosses it (ink on both sides, close by) the strip is
 * filled back in, so the digit keeps its stroke whole.
 */
#ifndef SOHOA_UPRIGHT_RULE_H
#define SOHOA_UPRIGHT_RULE_H

#include <stddef.h>

struct Pix;

/* A line leaning at most a few degrees from upright: at row y its middle
 * is at x = x0 + slope·y; it is half_width pixels either side of that,
 * and runs from row y0 to row y1. */
typedef struct upright_rule {
    double x0, slope;
    int half_width;
    int y0, y1;
} upright_rule;

/* Finds up to `max` upright rules in the 1 bpp `ink`: straight, thin
 * runs of ink at least `min_len` rows long (gaps of a copied or faded
 * line bridged), leaning up to 1 in 12. Returns how many were found. */
size_t upright_rules_find(struct Pix *ink, int min_len, upright_rule *out, size_t max);

/* Clears, in the 1 bpp `mask`, the strip of each rule (a pixel beyond its
 * half width either side), then fills the strip back in on the rows where
 * `mask` has ink on both of its sides within `reach` pixels: a stroke
 * the rule crossed. */
void upright_rules_erase(struct Pix *mask, const upright_rule *rules, size_t n, int reach);

#endif
