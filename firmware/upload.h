/* upload.h — one edXML envelope POSTed to the central system over HTTPS
 * (interfaces.md, "Upload protocol"), and what the answer means for the
 * queue.
 *
 * libcurl: the server is verified against [upload] ca_file (never
 * disabled), a client certificate is presented when configured (mTLS), the
 * proxy comes from [upload] proxy or the environment, and every request
 * carries `Idempotency-Key: <DocumentId>` so that the server can tell a
 * retry after a crash from a new document. The body is streamed from the
 * file. One connection is kept alive between posts.
 *
 * Keys, [upload] section:
 *   url             endpoint (https://; http:// only for loopback tests)
 *   ca_file         trust anchors (PEM); relative to the config's directory
 *   client_cert, client_key   PEM, optional (both or neither); key file 0600
 *   auth_token_file optional bearer token (file mode 0600), sent as
 *                   "Authorization: Bearer ..."; never logged
 *   content_type    default application/xml
 *   proxy           e.g. http://proxy:3128; empty = environment
 *   connect_timeout seconds, default 10
 *   timeout         seconds for a whole request, default 120
 */
#ifndef SOHOA_UPLOAD_H
#define SOHOA_UPLOAD_H

#include <stddef.h>

#include "config.h"
#include "err.h"

typedef struct upload_options {
    char *url, *ca_file, *client_cert, *client_key, *content_type, *proxy;
    char *auth_token; /* read from auth_token_file; wiped on free */
    long connect_timeout, timeout;
} upload_options;

/* Reads and validates the keys (SOHOA_EINPUT naming the key). */
int upload_options_load(const config *cfg, upload_options *o, sohoa_err *err);
void upload_options_free(upload_options *o);

typedef enum {
    UPLOAD_OK,       /* 2xx: accepted */
    UPLOAD_RETRY,    /* network, TLS, timeout, 5xx, 408, 425, 429, and what is wrong for
                        every document alike (401, 403, 404, 405, 3xx: the
                        configuration): try again later */
    UPLOAD_REJECTED, /* any other 4xx: this document will not be accepted as is */
} upload_outcome;

typedef struct upload_result {
    upload_outcome outcome;
    long http_status;  /* 0 when no HTTP answer */
    char message[512]; /* one line: curl's error, or the server's reason
                          (Status Description, or the start of the body) */
    char *body;        /* response body (NUL-terminated, at most 1 MiB), or NULL */
    size_t body_len;
    int replayed;      /* the server said it had this key already */
} upload_result;

typedef struct uploader uploader;

uploader *uploader_new(const upload_options *o, sohoa_err *err);
void uploader_free(uploader *u);

/* POSTs the file at `path`. Returns 0 when an outcome was reached (see
 * res->outcome; free res->body), -1 only for local errors (file
 * unreadable, out of memory) with err set. */
int uploader_post_file(uploader *u, const char *path, const char *idempotency_key,
                       upload_result *res, sohoa_err *err);

void upload_result_free(upload_result *res);

#endif
