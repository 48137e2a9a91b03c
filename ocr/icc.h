/* icc.h — an sRGB ICC profile (version 2) computed from the standard.
 *
 * PDF/A needs an OutputIntent with an embedded ICC profile so that the
 * device colour spaces of the scan (DeviceRGB, DeviceGray) have a defined
 * meaning. Rather than ship a binary blob, the profile is derived here from
 * IEC 61966-2-1: the primaries and D65 white point give the RGB→XYZ
 * matrix, Bradford adaptation takes it to the D50 profile connection
 * space, and the piecewise sRGB transfer curve is sampled into a table.
 */
#ifndef SOHOA_ICC_H
#define SOHOA_ICC_H

#include "pdf_buf.h"

#define ICC_SRGB_NAME "sRGB IEC61966-2.1" /* also the OutputConditionIdentifier */

/* Appends the profile (a monitor-class RGB profile, 3 components, ICC
 * version 2.1) to `out`. Returns 0, or -1 when memory ran out. */
int icc_srgb_build(pdf_buf *out);

/* The sRGB colorants adapted to D50 (rows: red, green, blue; columns
 * X, Y, Z), as written into rXYZ/gXYZ/bXYZ. Exposed for tests. */
void icc_srgb_colorants(double xyz[3][3]);

#endif
