/* libFuzzer target: the PDF side of `sohoa verify` (libqpdf's reading and
 * our byte-range and /Contents checks) on any bytes. */
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include "signer/pdf_sig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[] = "/tmp/fuzz-pdf-sig-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return 0;
    if (write(fd, data, size) == (ssize_t)size) {
        pdf_sig_info *sigs = NULL;
        int n = 0;
        sohoa_err err = {0};
        if (pdf_sig_list(path, &sigs, &n, &err) == 0)
            pdf_sig_list_free(sigs, n);
    }
    close(fd);
    unlink(path);
    return 0;
}
