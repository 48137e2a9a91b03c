/* extract_year.c — the year a legal normative document's notation carries,
 * against its date.
 *
 * Laws, decrees, circulars and a council's resolutions are numbered per
 * year, and their notation starts with the year of issue: "Số:
 * 21/2026/TT-BCT" is number 21, notation "2026/TT-BCT", issued in 2026
 * (standards §5). The date line's year must be that one. Read apart, on
 * two lines of the header, the two disagree only when one was misread (a
 * "2" of the year read as "0", a stamp over the line), and nothing tells
 * which: both are then left for the clerk to check, however clean each
 * looked alone. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "../firmware/log.h"
#include "extract_ctx.h"

/* Leading year of a notation ("2026/TT-BCT"), or 0. */
static int notation_year(const char *nota)
{
    for (int i = 0; i < 4; i++)
        if (!isdigit((unsigned char)nota[i]))
            return 0;
    return nota[4] == '/' ? atoi(nota) : 0;
}

/* A doubt caps a field's confidence here: under any review threshold. */
#define YEAR_DOUBT 0.5f

void ex_check_year(extract_ctx *c)
{
    const char *nota = c->out->str[META_NOTATION], *date = c->out->str[META_DATE];
    int ny = nota ? notation_year(nota) : 0;
    if (!ny || !date || strlen(date) < 4)
        return;
    int dy = atoi(date);
    if (dy == ny)
        return;
    log_debug("extract: the notation's year %d is not the date's %d: both to be checked", ny, dy);
    static const meta_field doubted[] = {META_NOTATION, META_NUMBER_NOTATION, META_DATE};
    for (size_t i = 0; i < sizeof doubted / sizeof *doubted; i++)
        if (c->out->confidence[doubted[i]] > YEAR_DOUBT)
            c->out->confidence[doubted[i]] = YEAR_DOUBT;
}
