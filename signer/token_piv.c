/* token_piv.c — placeholder until the CCID/PIV backend lands. */
#include "token.h"

token *token_piv_open(const token_params *params, sohoa_err *err)
{
    err_set(err, SOHOA_EWORK, "token backend ccid: not available in this build");
    return NULL;
}
