/* cmd_station.c — `sohoa daemon` and its client `sohoa press` (the control
 * protocol is described in daemon.h). */
#include "cmd_station.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli.h"
#include "daemon.h"
#include "log.h"

static const char daemon_help[] =
    "usage: sohoa daemon [-c FILE] [-v]\n"
    "\n"
    "The station service: takes in documents (button, 'sohoa press'), reads,\n"
    "guards, registers, signs and packages them, and sends the queue to the\n"
    "central system. Stops cleanly on SIGTERM; resumes unfinished work on start.\n"
    "\n"
    "  -c, --config FILE   configuration file (default " CONFIG_DEFAULT_PATH ")\n"
    "  -v, --verbose       more detail in the log (-vv: debugging)\n"
    "  -q, --quiet         warnings and errors only\n"
    "  -h, --help          this help\n";

int cmd_daemon(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'}, {"verbose", no_argument, NULL, 'v'},
        {"quiet", no_argument, NULL, 'q'},        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *config_path = NULL;
    int c;
    log_set_level(LOG_INFO); /* a service: its log is the journal */
    while ((c = getopt_long(argc, argv, "+c:vqh", longopts, NULL)) != -1) {
        switch (c) {
        case 'c': config_path = optarg; break;
        case 'v': log_set_level(LOG_DEBUG); break;
        case 'q': log_set_level(LOG_WARN); break;
        case 'h': fputs(daemon_help, stdout); return 0;
        default: return usage_error("daemon", "unknown option");
        }
    }
    if (optind < argc)
        return usage_error("daemon", "unexpected argument");
    sohoa_err err = {0};
    config cfg;
    if (load_config(config_path, &cfg, &err) != 0)
        return report("daemon", &err);
    int rc = daemon_run(&cfg, &err) == 0 ? 0 : report("daemon", &err);
    config_free(&cfg);
    return rc;
}

static const char press_help[] =
    "usage: sohoa press [-c FILE] [--no-wait] [--key KEY] [IMAGE...]\n"
    "\n"
    "A button press delivered to the running daemon. With IMAGE files, these\n"
    "pages are the document (instead of the scanner). Waits until the document\n"
    "is queued for upload or held for the clerk, and says which.\n"
    "\n"
    "  -c, --config FILE   configuration file (default " CONFIG_DEFAULT_PATH ")\n"
    "      --no-wait       return once the pages are safely taken in\n"
    "      --key KEY       idempotency key: pressing again with the same key\n"
    "                      returns the same document (A-Z a-z 0-9 - _, <= 64)\n"
    "  -q, --quiet         print only the outcome line\n"
    "  -h, --help          this help\n"
    "\n"
    "Exit status: 0 taken in (queued, sent or held); 1 failed, or waiting for a\n"
    "retry (the document is kept and retried by the daemon); 2 bad usage.\n";

/* Page type from the file name ("scan.JPG" → "jpg"). */
static const char *page_ext(const char *path, char *buf, size_t size)
{
    const char *dot = strrchr(path, '.');
    if (!dot || strchr(dot, '/'))
        return NULL;
    snprintf(buf, size, "%s", dot + 1);
    for (char *p = buf; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    return buf;
}

static int send_page(FILE *sock, const char *path)
{
    char ext[17];
    FILE *f = fopen(path, "rb");
    struct stat stt;
    if (!f || fstat(fileno(f), &stt) != 0 || !S_ISREG(stt.st_mode)) {
        fprintf(stderr, "sohoa press: %s: %s\n", path, f ? "not a regular file" : strerror(errno));
        if (f)
            fclose(f);
        return -1;
    }
    if (!page_ext(path, ext, sizeof ext)) {
        fprintf(stderr, "sohoa press: %s: no file type extension (.png, .jpg, .tif, .pnm)\n", path);
        fclose(f);
        return -1;
    }
    fprintf(sock, "PAGE %lld %s\n", (long long)stt.st_size, ext);
    char buf[65536];
    size_t got, total = 0;
    while ((got = fread(buf, 1, sizeof buf, f)) > 0) {
        if (fwrite(buf, 1, got, sock) != got)
            break;
        total += got;
    }
    fclose(f);
    if (total != (size_t)stt.st_size) {
        fprintf(stderr, "sohoa press: %s: could not send the whole file\n", path);
        return -1;
    }
    return 0;
}

int cmd_press(int argc, char **argv)
{
    enum { OPT_NO_WAIT = 256, OPT_KEY };
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'}, {"no-wait", no_argument, NULL, OPT_NO_WAIT},
        {"key", required_argument, NULL, OPT_KEY}, {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
    };
    const char *config_path = NULL, *key = NULL;
    int wait = 1, quiet = 0, c;
    while ((c = getopt_long(argc, argv, "+c:qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'c': config_path = optarg; break;
        case OPT_NO_WAIT: wait = 0; break;
        case OPT_KEY: key = optarg; break;
        case 'q': quiet = 1; break;
        case 'h': fputs(press_help, stdout); return 0;
        default: return usage_error("press", "unknown option");
        }
    }
    if (key && (strlen(key) == 0 || strlen(key) > 64 || strspn(key, "abcdefghijklmnopqrstuvwxyz"
                                                                     "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                                     "0123456789-_") != strlen(key)))
        return usage_error("press", "--key: expected 1-64 characters A-Z a-z 0-9 - _");
    sohoa_err err = {0};
    config cfg;
    if (load_config(config_path, &cfg, &err) != 0)
        return report("press", &err);
    char *path = daemon_socket_path(&cfg);
    config_free(&cfg);
    if (!path)
        return SOHOA_EWORK;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        fprintf(stderr, "sohoa press: cannot reach the daemon at %s: %s; is 'sohoa daemon' running?\n",
                path, strerror(errno));
        if (fd >= 0)
            close(fd);
        free(path);
        return SOHOA_EWORK;
    }
    free(path);
    signal(SIGPIPE, SIG_IGN);
    FILE *out = fdopen(dup(fd), "w"), *in = fdopen(fd, "r");
    fprintf(out, "PRESS%s%s%s\n", wait ? " WAIT" : "", key ? " KEY=" : "", key ? key : "");
    int rc = 0;
    for (int i = optind; i < argc && rc == 0; i++)
        rc = send_page(out, argv[i]);
    if (rc != 0) {
        fclose(out);
        fclose(in);
        return SOHOA_EINPUT; /* the daemon drops a request that never ends */
    }
    fputs("END\n", out);
    fflush(out);
    shutdown(fileno(out), SHUT_WR);
    fclose(out);

    char line[1024];
    int status = SOHOA_EWORK; /* a daemon that goes away says nothing */
    while (fgets(line, sizeof line, in)) {
        line[strcspn(line, "\n")] = 0;
        long long id;
        char state[32], reg_no[48];
        int n = 0;
        if (strncmp(line, "ERR ", 4) == 0) {
            int code = atoi(line + 4);
            const char *msg = strchr(line + 4, ' ');
            fprintf(stderr, "sohoa press: %s\n", msg ? msg + 1 : line);
            status = code == 2 ? SOHOA_EINPUT : SOHOA_EWORK;
            break;
        } else if (sscanf(line, "OK accepted %lld", &id) == 1) {
            if (!quiet)
                printf("document %lld taken in%s\n", id,
                       strstr(line, "existing") ? " (already, by the same key)" : "");
            status = 0;
            if (!wait)
                break;
        } else if (sscanf(line, "STATE %lld %31s %n", &id, state, &n) >= 2) {
            if (!quiet)
                printf("document %lld: %s\n", id, state);
        } else if (sscanf(line, "DONE %lld %31s %47s %n", &id, state, reg_no, &n) >= 3) {
            const char *note = n ? line + n : "";
            if (strcmp(state, "queued") == 0 || strcmp(state, "sent") == 0) {
                printf("document %lld %s: số đến %s, %s\n", id, state, reg_no, note);
                status = 0;
            } else if (strcmp(state, "held") == 0) {
                printf("document %lld held for the clerk: %s\n", id, note);
                status = 0;
            } else {
                printf("document %lld %s: %s\n", id, state, note);
                status = SOHOA_EWORK;
            }
            fflush(stdout);
            break;
        }
        fflush(stdout);
    }
    fclose(in);
    return status;
}
