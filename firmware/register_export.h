/* register_export.h — the incoming register for a date range, as CSV and
 * as a printable PDF (A4 landscape), with the columns of Nghị định 30,
 * Phụ lục IV: Ngày đến, Số đến, Tác giả, Số ký hiệu, Ngày tháng văn bản,
 * Tên loại và trích yếu, Đơn vị/người nhận, Ngày chuyển, Ký nhận, Ghi chú.
 */
#ifndef SOHOA_REGISTER_EXPORT_H
#define SOHOA_REGISTER_EXPORT_H

#include <stdio.h>

#include "err.h"
#include "register.h"

/* Rows whose effective receipt day is in [from_day, to_day] (YYYY-MM-DD),
 * ordered by year and số đến. CSV: RFC 4180, UTF-8 with BOM (spreadsheet
 * programs then read Vietnamese correctly), header row of the column
 * names, dates dd/mm/yyyy. */
int register_export_csv(reg *r, const char *from_day, const char *to_day, FILE *out,
                        sohoa_err *err);

/* The same rows as a PDF written atomically to `path`: a title
 * ("SỔ ĐĂNG KÝ VĂN BẢN ĐẾN", `organ_name`, the date range), the table with
 * its header repeated on every page, long cells wrapped, page numbers. */
int register_export_pdf(reg *r, const char *from_day, const char *to_day, const char *organ_name,
                        const char *path, sohoa_err *err);

#endif
