/* ossl.h — OpenSSL's error queue turned into words for our messages. */
#ifndef SOHOA_OSSL_H
#define SOHOA_OSSL_H

#include <stddef.h>

/* The reason of the last OpenSSL error, with its detail text when there is
 * one ("no detail from OpenSSL" when the queue is empty), written to buf; clears the queue so a later failure is
 * not blamed on this one. Returns buf. */
const char *ossl_reason(char *buf, size_t cap);

#endif
