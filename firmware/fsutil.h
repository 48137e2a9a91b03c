/* fsutil.h — durable, atomic file writes.
 *
 * Power can fail at any instruction. A file is written to a temporary in
 * the same directory, flushed with fsync(), renamed over its final name,
 * and the directory is fsync'ed, so that readers and a rebooted station
 * see either the old file or the complete new one, never a partial file.
 */
#ifndef SOHOA_FSUTIL_H
#define SOHOA_FSUTIL_H

#include <stdio.h>
#include <sys/types.h>

#include "err.h"

typedef struct atomic_file {
    char *path;     /* final name */
    char *tmp_path; /* temporary name in the same directory */
    FILE *f;        /* write here */
} atomic_file;

/* Creates a temporary file next to `path` with permissions `mode`. */
int atomic_open(atomic_file *af, const char *path, mode_t mode, sohoa_err *err);

/* Flushes and fsyncs the temporary file but leaves it under its temporary
 * name, so several files can be prepared before any is published. */
int atomic_sync(atomic_file *af, sohoa_err *err);

/* atomic_sync() if not yet done, then renames over the final name and
 * fsyncs the directory. Frees `af` on success and on failure (after a
 * failure the temporary file is removed). */
int atomic_commit(atomic_file *af, sohoa_err *err);

/* Closes and removes the temporary file; safe on a zeroed `af`. */
void atomic_abort(atomic_file *af);

/* Writes `len` bytes to `path` atomically. */
int fs_write_atomic(const char *path, const void *data, size_t len, mode_t mode, sohoa_err *err);

/* Creates `dir` and its missing parents. */
int fs_mkdir_p(const char *dir, mode_t mode, sohoa_err *err);

/* fsyncs the directory containing `path` (so a rename in it is durable). */
int fs_sync_parent(const char *path, sohoa_err *err);

/* Reads a whole file (at most `max` bytes, else an error) into a malloc'd
 * NUL-terminated buffer. */
int fs_read_all(const char *path, size_t max, char **data, size_t *len, sohoa_err *err);

#endif
