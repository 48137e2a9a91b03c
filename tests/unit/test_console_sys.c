/* Unit tests: the console's system commands (firmware/console_sys.c,
 * console_net.c, console_token.c) driven through their handlers, with the
 * terminal's input and output in temporary files, a temporary
 * configuration file and a real register (its audit log is read back).
 *
 * Real parts: the SoftHSM2 token of tests/pki/make-pki.sh (a private copy:
 * the PIN tests change its PIN), the reference receiver
 * (tests/receiver/receiver.py) over HTTPS on loopback for `network check`,
 * libsane's `test` backend for `scanner`, Tesseract for selftest's OCR.
 * Every command's output is checked to fit 80 columns.
 */
/* cmocka needs these first */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "firmware/config.h"
#include "firmware/console.h"
#include "firmware/register.h"
#include "firmware/vntime.h"
#include "signer/token.h"
#include "tests/unit/support/testutil.h"

#define TOKEN "csys-T0ken.for~tests"
#define PIN "123456"

static char tmp[64];       /* everything of this run */
static char pki[128];      /* our copy of the test PKI */
static pid_t receiver_pid; /* HTTPS, bearer token TOKEN */
static int receiver_port;
static int test_seq;
static int pin_changed; /* the token's PIN is "654321" until put back */
static time_t fake_now; /* 0: the real clock */

/* The console of the current test. */
typedef struct tcase {
    char dir[160]; /* tmp/tN: sohoa.conf, data/, ... */
    console c;
    FILE *in, *out;
    char *output; /* the last command's output */
    char *audit;  /* the audit log, one "what|old|new" line per entry */
} tcase;
static tcase T;

/* ---------- helpers ---------- */

static time_t test_clock(void)
{
    return fake_now ? fake_now : time(NULL);
}

static void write_text(const char *path, const char *text, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    assert_int_equal(fchmod(fd, mode), 0);
    close(fd);
}

static void path_in(char *buf, size_t cap, const char *name)
{
    snprintf(buf, cap, "%s/%s", T.dir, name);
}

/* A port nothing listens on (bound, then released). */
static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t l = sizeof sa;
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &l), 0);
    close(fd);
    return ntohs(sa.sin_port);
}

/* What the configuration of a test differs in. */
typedef struct conf_opts {
    const char *url;             /* default https://localhost:<receiver>/edxml */
    const char *ca;              /* default PKI ca-bundle.pem */
    const char *auth_token;      /* default TOKEN */
    const char *key_label;       /* default sign */
    int no_pin_file;             /* no [token] pin_file */
    const char *scanner_options; /* [scanner] options */
    const char *min_free_mb;     /* [station] min_free_mb, default 1 */
    const char *console_extra;   /* lines added to [console] */
    const char *network_apply;   /* [console] network_apply_command, default "true" */
} conf_opts;

static void write_conf(const conf_opts *o)
{
    static const conf_opts none;
    if (!o)
        o = &none;
    char url[128], path[300], token_path[300], pin_path[300];
    snprintf(url, sizeof url, "https://localhost:%d/edxml", receiver_port);
    path_in(token_path, sizeof token_path, "upload.token");
    write_text(token_path, o->auth_token ? o->auth_token : TOKEN, 0600);
    path_in(pin_path, sizeof pin_path, "token.pin");
    char pin_line[400] = "";
    if (!o->no_pin_file)
        snprintf(pin_line, sizeof pin_line, "pin_file = %s\n", pin_path);
    char *text = NULL;
    assert_true(
        asprintf(&text,
                 "[station]\norgan_id = 000.00.15.H47\norgan_name = Sở Thử nghiệm\n"
                 "data_dir = %s/data\nmin_free_mb = %s\ndisk_warn_percent = 100\n\n"
                 "[ocr]\nlanguages = vie\n\n"
                 "[token]\nbackend = pkcs11\nmodule = /usr/lib/softhsm/libsofthsm2.so\n"
                 "token_label = ORG\nkey_label = %s\n%s\n"
                 "[scanner]\ndevice = test:0\nresolution = 200\nsource = flatbed\n%s%s\n\n"
                 "[upload]\nurl = %s\nca_file = %s\nauth_token_file = %s\n\n"
                 "[console]\nnetwork_file = net/20-sohoa.network\n"
                 "network_apply_command = %s\ntimesyncd_file = ntp/sohoa.conf\n"
                 "reboot_command = touch %s/rebooted\n"
                 "shutdown_command = touch %s/off\n%s",
                 T.dir, o->min_free_mb ? o->min_free_mb : "1", o->key_label ? o->key_label : "sign",
                 pin_line, o->scanner_options ? "options = " : "",
                 o->scanner_options ? o->scanner_options : "", o->url ? o->url : url,
                 o->ca ? o->ca : (snprintf(path, sizeof path, "%s/ca-bundle.pem", pki), path),
                 token_path, o->network_apply ? o->network_apply : "true", T.dir, T.dir,
                 o->console_extra ? o->console_extra : "") > 0);
    char conf[300];
    path_in(conf, sizeof conf, "sohoa.conf");
    write_text(conf, text, 0640);
    free(text);
}

/* (Re)loads the configuration into the console, as `config apply` does. */
static void load_conf(void)
{
    sohoa_err err = {0};
    config_free(&T.c.cfg);
    memset(&T.c.cfg, 0, sizeof T.c.cfg);
    if (config_load(&T.c.cfg, T.c.config_path, &err) != 0)
        fail_msg("config: %s", err.msg);
}

static void reconf(const conf_opts *o)
{
    write_conf(o);
    load_conf();
}

static int audit_line(void *ctx, const reg_audit_entry *e)
{
    char **buf = ctx;
    char *n = NULL;
    assert_true(asprintf(&n, "%s%s|%s|%s\n", *buf ? *buf : "", e->what,
                         e->old_value ? e->old_value : "", e->new_value ? e->new_value : "") > 0);
    free(*buf);
    *buf = n;
    return 0;
}

/* The audit log, one "what|old|new" line per entry, into T.audit. */
static const char *audit(void)
{
    free(T.audit);
    T.audit = NULL;
    sohoa_err err = {0};
    assert_int_equal(reg_each_audit(T.c.r, 0, audit_line, &T.audit, &err), 0);
    if (!T.audit)
        T.audit = strdup("");
    return T.audit;
}

/* Characters (not bytes) of a UTF-8 line. */
static int cols(const char *s, size_t n)
{
    int k = 0;
    for (size_t i = 0; i < n; i++)
        k += ((unsigned char)s[i] & 0xc0) != 0x80;
    return k;
}

/* Runs one command line with `input` (the answers to its questions) on
 * the terminal; the output goes to T.output. Checks that every line of it
 * fits 80 columns. Returns the handler's code. */
static int run(const char *line, const char *input)
{
    char copy[512];
    snprintf(copy, sizeof copy, "%s", line);
    char *argv[32];
    int argc = 0;
    for (char *w = strtok(copy, " "); w && argc < 31; w = strtok(NULL, " "))
        argv[argc++] = w;
    argv[argc] = NULL;
    const console_cmd *cmd = NULL;
    for (const console_cmd *k = console_cmds_sys; k->name && !cmd; k++)
        if (strcmp(k->name, argv[0]) == 0)
            cmd = k;
    assert_non_null(cmd);

    assert_int_equal(ftruncate(fileno(T.in), 0), 0);
    rewind(T.in);
    fputs(input ? input : "", T.in);
    fflush(T.in);
    rewind(T.in);
    lseek(fileno(T.in), 0, SEEK_SET);
    assert_int_equal(ftruncate(fileno(T.out), 0), 0);
    rewind(T.out);
    clearerr(T.in); /* a test's end of input must not stick to the next command */

    int rc = cmd->run(&T.c, argc, argv);

    fflush(T.out);
    long n = ftell(T.out);
    free(T.output);
    T.output = calloc(1, (size_t)n + 1);
    rewind(T.out);
    assert_int_equal(fread(T.output, 1, (size_t)n, T.out), (size_t)n);
    if (getenv("CSYS_VERBOSE"))
        fprintf(stderr, "> %s  [%d]\n%s", line, rc, T.output);
    /* A yes/no answer is not echoed here (no terminal): what follows its
     * prompt starts a line of its own on the real console. */
    char *checked = strdup(T.output);
    for (char *q; (q = strstr(checked, "[c/K] ")) || (q = strstr(checked, "[y/N] "));)
        q[5] = '\n', q[1] = '-';
    for (const char *p = checked; *p;) {
        size_t l = strcspn(p, "\n");
        if (cols(p, l) > 80)
            fail_msg("line over 80 columns in the output of `%s`: %.*s", line, (int)l, p);
        p += l + (p[l] == '\n');
    }
    free(checked);
    return rc;
}

/* T.output with its wrapped lines joined again ("\n" and the indent of the
 * continuation line become one space), malloc'ed. */
static char *flat_output(void)
{
    char *f = strdup(T.output);
    size_t o = 0;
    for (const char *p = T.output; *p; p++) {
        if (*p == '\n' && p[1] == ' ') {
            while (p[1] == ' ')
                p++;
            f[o++] = ' ';
        } else {
            f[o++] = *p;
        }
    }
    f[o] = '\0';
    return f;
}

/* `s` is in the output, as printed or across a wrapped line. */
static void assert_output_has(const char *s)
{
    char *f = flat_output();
    int ok = strstr(T.output, s) || strstr(f, s);
    free(f);
    if (!ok)
        fail_msg("output lacks \"%s\":\n%s", s, T.output);
}

static void assert_output_lacks(const char *s)
{
    char *f = flat_output();
    int bad = strstr(T.output, s) || strstr(f, s);
    free(f);
    if (bad)
        fail_msg("output has \"%s\":\n%s", s, T.output);
}

static char *slurp_in(const char *name)
{
    char path[300];
    path_in(path, sizeof path, name);
    return tu_slurp(path, NULL);
}

/* ---------- fixtures ---------- */

static int start_receiver(void)
{
    char port_file[128], cmd[1024];
    snprintf(port_file, sizeof port_file, "%s/receiver.port", tmp);
    snprintf(cmd, sizeof cmd,
             "exec python3 tests/receiver/receiver.py --host 127.0.0.1 --port 0 --port-file %s "
             "--tls %s/server-chain.pem %s/server.key --token " TOKEN " >%s/receiver.log 2>&1",
             port_file, pki, pki, tmp);
    receiver_pid = fork();
    if (receiver_pid < 0)
        return -1;
    if (receiver_pid == 0) {
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 500; i++) { /* up to 10 s */
        FILE *f = fopen(port_file, "r");
        if (f) {
            int ok = fscanf(f, "%d", &receiver_port) == 1;
            fclose(f);
            if (ok)
                return 0;
        }
        int st;
        if (waitpid(receiver_pid, &st, WNOHANG) == receiver_pid) {
            fprintf(stderr, "the receiver exited; see %s/receiver.log\n", tmp);
            receiver_pid = 0;
            return -1;
        }
        usleep(20000);
    }
    fprintf(stderr, "the receiver did not start; see %s/receiver.log\n", tmp);
    return -1;
}

static int setup_all(void **state)
{
    (void)state;
    /* Loopback only: a proxy from the environment must not get in the way. */
    static const char *const proxies[] = {"http_proxy", "https_proxy", "HTTPS_PROXY", "all_proxy",
                                          "ALL_PROXY",  "no_proxy",    "NO_PROXY"};
    for (size_t i = 0; i < sizeof proxies / sizeof proxies[0]; i++)
        unsetenv(proxies[i]);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return -1;
    strcpy(tmp, "/tmp/sohoa-csys.XXXXXX");
    if (!mkdtemp(tmp))
        return -1;
    /* The build's PKI (made or brought up to date here: quick when it is)
     * copied, because the PIN tests change the token's PIN. */
    const char *build = getenv("BUILD");
    char src[300];
    if (build)
        snprintf(src, sizeof src, "%s/pki", build);
    else
        snprintf(src, sizeof src, "%s/pki-made", tmp);
    snprintf(pki, sizeof pki, "%s/pki", tmp);
    if (tu_run(NULL, "bash tests/pki/make-pki.sh %s >%s/make-pki.log 2>&1", src, tmp) != 0) {
        fprintf(stderr, "tests/pki/make-pki.sh failed; see %s/make-pki.log\n", tmp);
        return -1;
    }
    if (tu_run(NULL,
               "cp -a %s %s && printf 'directories.tokendir = %s/tokens\\n"
               "objectstore.backend = file\\nlog.level = ERROR\\nslots.removable = false\\n'"
               " >%s/softhsm2.conf",
               src, pki, pki, pki) != 0)
        return -1;
    char conf[200];
    snprintf(conf, sizeof conf, "%s/softhsm2.conf", pki);
    setenv("SOFTHSM2_CONF", conf, 1);

    /* SANE: libsane's test backend alone, with room for A4 (its default
     * area is 200 mm). sane_init() reads this at each scanner_init(). */
    char sane[100], path[200];
    snprintf(sane, sizeof sane, "%s/sane", tmp);
    mkdir(sane, 0755);
    snprintf(path, sizeof path, "%s/dll.conf", sane);
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fputs("test\n", f);
    fclose(f);
    snprintf(path, sizeof path, "%s/test.conf", sane);
    f = fopen(path, "w");
    if (!f)
        return -1;
    fputs("number_of_devices 2\ngeometry_min 0.0\ngeometry_max 300.0\ngeometry_quant 1.0\n", f);
    fclose(f);
    setenv("SANE_CONFIG_DIR", sane, 1);
    unsetenv("SANE_DEBUG_DLL");
    return start_receiver();
}

static int teardown_all(void **state)
{
    (void)state;
    if (receiver_pid > 0) {
        kill(receiver_pid, SIGTERM);
        waitpid(receiver_pid, NULL, 0);
    }
    curl_global_cleanup();
    return tu_run(NULL, "rm -rf %s", tmp) == 0 ? 0 : -1;
}

static int setup(void **state)
{
    (void)state;
    memset(&T, 0, sizeof T);
    fake_now = 0;
    snprintf(T.dir, sizeof T.dir, "%s/t%d", tmp, ++test_seq);
    if (mkdir(T.dir, 0700) != 0)
        return -1;
    char data[200], pin[200];
    snprintf(data, sizeof data, "%s/data", T.dir);
    mkdir(data, 0700);
    snprintf(pin, sizeof pin, "%s/token.pin", T.dir);
    write_text(pin, PIN "\n", 0600);
    write_conf(NULL);

    T.in = tmpfile();
    T.out = tmpfile();
    if (!T.in || !T.out)
        return -1;
    console *c = &T.c;
    c->in = T.in;
    c->out = T.out;
    c->english = 0;
    if (asprintf(&c->config_path, "%s/sohoa.conf", T.dir) < 0 ||
        asprintf(&c->data_dir, "%s", data) < 0)
        return -1;
    load_conf();
    char db[250];
    snprintf(db, sizeof db, "%s/register.db", data);
    sohoa_err err = {0};
    c->r = reg_open(db, &err);
    if (!c->r) {
        fprintf(stderr, "reg_open: %s\n", err.msg);
        return -1;
    }
    snprintf(c->who, sizeof c->who, "test@csys");
    c->now = test_clock;
    c->interactive = 0;
    c->priv = NULL; /* no terminal: con_ask reads lines from c->in */
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    if (pin_changed) {
        /* a failed PIN test must not make every later token test fail */
        token_params tp = {
            .backend = "pkcs11", .module = "/usr/lib/softhsm/libsofthsm2.so", .token_label = "ORG"};
        sohoa_err err = {0};
        if (token_pkcs11_change_pin(&tp, "654321", PIN, &err) == 0)
            pin_changed = 0;
    }
    reg_close(T.c.r);
    config_free(&T.c.cfg);
    free(T.c.config_path);
    free(T.c.data_dir);
    fclose(T.in);
    fclose(T.out);
    free(T.output);
    free(T.audit);
    return tu_run(NULL, "rm -rf %s", T.dir) == 0 ? 0 : -1;
}

/* ---------- network ---------- */

static void test_network_static(void **state)
{
    (void)state;
    assert_int_equal(run("network static 192.168.10.20/24 192.168.10.1 1.1.1.1 8.8.8.8", NULL), 0);
    char *f = slurp_in("net/20-sohoa.network");
    assert_non_null(f);
    assert_non_null(strstr(f, "[Match]\nName=en* eth*\n"));
    assert_non_null(strstr(f, "[Network]\nAddress=192.168.10.20/24\nGateway=192.168.10.1\n"
                              "DNS=1.1.1.1\nDNS=8.8.8.8\n"));
    assert_null(strstr(f, "DHCP"));
    free(f);
    assert_output_has("Đã ghi ");
    assert_output_has("static 192.168.10.20/24 gw 192.168.10.1 dns 1.1.1.1 8.8.8.8");
}

static void test_network_static_audit_and_dhcp(void **state)
{
    (void)state;
    assert_int_equal(run("network static 10.1.2.3/16 10.1.0.1", NULL), 0);
    assert_non_null(strstr(audit(), "network|(none)|static 10.1.2.3/16 gw 10.1.0.1\n"));
    assert_int_equal(run("network dhcp", NULL), 0);
    char *f = slurp_in("net/20-sohoa.network");
    assert_non_null(strstr(f, "[Network]\nDHCP=yes\n"));
    assert_null(strstr(f, "Address="));
    free(f);
    assert_non_null(strstr(audit(), "network|static 10.1.2.3/16 gw 10.1.0.1|dhcp\n"));
    /* show tells what is configured, and the loopback address */
    assert_int_equal(run("network", NULL), 0);
    assert_output_has("Cấu hình: dhcp");
    assert_output_has("127.0.0.1/8");
    assert_output_has("Cổng mặc định:");
    assert_output_has("DNS:");
}

static void test_network_static_bad_arguments(void **state)
{
    (void)state;
    static const struct {
        const char *line, *says;
    } bad[] = {
        {"network static 192.168.1.300/24 192.168.1.1", "192.168.1.300"},
        {"network static 192.168.1.20 192.168.1.1", "ĐỊA_CHỈ/TIỀN_TỐ"},
        {"network static 192.168.1.20/33 192.168.1.1", "1..32"},
        {"network static 192.168.1.20/0 192.168.1.1", "1..32"},
        {"network static 192.168.1.20/2x 192.168.1.1", "tiền tố"},
        {"network static 192.168.1.20/24 192.168.2.1", "ngoài mạng con"},
        {"network static 192.168.1.0/24 192.168.1.1", "địa chỉ mạng"},
        {"network static 192.168.1.255/24 192.168.1.1", "quảng bá"},
        {"network static 192.168.1.20/24 192.168.1.20", "không dùng được làm cổng"},
        {"network static 127.0.0.5/8 127.0.0.1", "loopback"},
        {"network static 192.168.1.20/24 fe80::1", "cùng loại"},
        {"network static 192.168.1.20/24 192.168.1.1 8.8.8", "DNS 8.8.8"},
        {"network static 192.168.1.20/24", "dùng: network"},
        {"network frobnicate", "dùng: network"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (run(bad[i].line, NULL) != 2)
            fail_msg("`%s` was accepted:\n%s", bad[i].line, T.output);
        assert_output_has(bad[i].says);
    }
    /* nothing written, nothing audited */
    char path[300];
    path_in(path, sizeof path, "net/20-sohoa.network");
    assert_int_equal(access(path, F_OK), -1);
    assert_null(strstr(audit(), "network|"));
    /* IPv6 works too */
    assert_int_equal(run("network static 2001:db8::20/64 2001:db8::1 2001:4860:4860::8888", NULL),
                     0);
    char *f = slurp_in("net/20-sohoa.network");
    assert_non_null(strstr(f, "Address=2001:db8::20/64\nGateway=2001:db8::1\n"
                              "DNS=2001:4860:4860::8888\n"));
    free(f);
}

static void test_network_apply_command(void **state)
{
    (void)state;
    /* a failing command is reported, after the file is written */
    reconf(&(conf_opts){.network_apply = "echo applied; exit 3"});
    assert_int_equal(run("network dhcp", NULL), 1);
    assert_output_has("Áp dụng: echo applied; exit 3");
    assert_output_has("  applied\n");
    assert_output_has("exit status 3");
    char *f = slurp_in("net/20-sohoa.network");
    assert_non_null(f);
    free(f);
    /* none set: the user is told how it takes effect */
    reconf(&(conf_opts){.network_apply = ""});
    assert_int_equal(run("network dhcp", NULL), 0);
    assert_output_has("networkctl reload");
    assert_output_lacks("Áp dụng");
}

static void test_network_proxy(void **state)
{
    (void)state;
    assert_int_equal(run("network proxy http://proxy.example.vn:3128", NULL), 0);
    assert_string_equal(config_get(&T.c.cfg, "upload", "proxy", ""),
                        "http://proxy.example.vn:3128");
    char *conf = slurp_in("sohoa.conf");
    assert_non_null(strstr(conf, "proxy = http://proxy.example.vn:3128"));
    free(conf);
    assert_non_null(strstr(audit(), "[upload] proxy"));
    assert_int_equal(run("network", NULL), 0);
    assert_output_has("Proxy tải lên: http://proxy.example.vn:3128");
    assert_int_equal(run("network proxy ftp://proxy.example.vn", NULL), 2);
    assert_int_equal(run("network proxy none", NULL), 0);
    assert_output_has("Đã lưu [upload] proxy = (trống)");
    assert_string_equal(config_get(&T.c.cfg, "upload", "proxy", ""), "");
}

static void test_network_check_ok(void **state)
{
    (void)state;
    assert_int_equal(run("network check", NULL), 0);
    assert_output_has("DNS");
    assert_output_has("localhost →");
    assert_output_has("127.0.0.1:");
    assert_output_has("máy chủ localhost"); /* the server's certificate */
    assert_output_has("HTTP 400");          /* the empty POST, refused after the credentials */
    assert_output_has("được chấp nhận (auth_token_file)");
    assert_output_has("Kết luận: OK");
    assert_output_lacks("LỖI");
    assert_output_lacks(TOKEN);
    /* `ping` is the same check */
    assert_int_equal(run("ping", NULL), 0);
    assert_output_has("Kết luận: OK");
}

static void test_network_check_wrong_ca(void **state)
{
    (void)state;
    char ca[200];
    snprintf(ca, sizeof ca, "%s/other-ca.pem", pki);
    conf_opts o = {.ca = ca};
    reconf(&o);
    T.c.english = 1;
    assert_int_equal(run("network check", NULL), 1);
    assert_output_has("TCP       OK");
    assert_output_has("TLS       FAIL");
    assert_output_has("not trusted");
    assert_output_has("auth      -        skipped");
    assert_output_has("Verdict: FAIL");
}

static void test_network_check_nothing_listening(void **state)
{
    (void)state;
    char url[100];
    snprintf(url, sizeof url, "https://127.0.0.1:%d/edxml", free_port());
    conf_opts o = {.url = url};
    reconf(&o);
    assert_int_equal(run("network check", NULL), 1);
    assert_output_has("DNS       OK");
    assert_output_has("TCP       LỖI");
    assert_output_has("Connection refused");
    assert_output_has("TLS       -        bỏ qua");
    assert_output_has("Kết luận: LỖI");
}

static void test_network_check_proxy_down(void **state)
{
    (void)state;
    char proxy[100];
    snprintf(proxy, sizeof proxy, "http://127.0.0.1:%d", free_port());
    assert_int_equal(run("network proxy xyz", NULL), 2);
    assert_int_equal(run(strcat(strcpy((char[160]){0}, "network proxy "), proxy), NULL), 0);
    assert_output_has("Đã lưu [upload] proxy.");
    assert_int_equal(run("network check", NULL), 1);
    /* the station talks to the proxy: that is what TCP checks */
    char want[160];
    snprintf(want, sizeof want, "TCP       LỖI      proxy %s:", proxy + 7);
    assert_output_has(want);
    assert_output_has("Connection refused");
    assert_output_has("[upload] proxy");
}

static void test_network_check_token_refused(void **state)
{
    (void)state;
    conf_opts o = {.auth_token = "not-the-token"};
    reconf(&o);
    assert_int_equal(run("network check", NULL), 1);
    assert_output_has("TLS       OK");
    assert_output_has("xác thực  LỖI");
    assert_output_has("HTTP 401");
    assert_output_has("auth_token_file");
    assert_output_lacks("not-the-token");
}

/* ---------- time ---------- */

static void test_time_show(void **state)
{
    (void)state;
    /* A stand-in for timedatectl with known answers. */
    char script[300];
    path_in(script, sizeof script, "timedatectl");
    write_text(script,
               "#!/bin/sh\n"
               "case $1 in\n"
               "show) printf 'Timezone=Asia/Ho_Chi_Minh\\nNTP=yes\\nNTPSynchronized=yes\\n' ;;\n"
               "timesync-status) printf '       Server: 10.0.0.1 (ntp.example.vn)\\n"
               "       Offset: -1.234ms\\n' ;;\n"
               "*) exit 1 ;;\n"
               "esac\n",
               0700);
    char extra[400];
    snprintf(extra, sizeof extra, "timedatectl = %s\n", script);
    conf_opts o = {.console_extra = extra};
    reconf(&o);
    fake_now = 1795000000; /* 2026-11-17T... UTC */
    char iso[VNTIME_ISO_LEN], want[64];
    vntime_iso(fake_now, iso);
    snprintf(want, sizeof want, "Giờ địa phương: %.10s %.8s +07:00", iso, iso + 11);
    assert_int_equal(run("time", NULL), 0);
    assert_output_has(want);
    assert_output_has("Asia/Ho_Chi_Minh (UTC+07:00, cố định)");
    assert_output_has("Đồng bộ NTP: đã đồng bộ");
    assert_output_has("Độ lệch: -1.234ms (máy chủ 10.0.0.1 (ntp.example.vn))");
    assert_output_has("Máy chủ NTP: (chưa đặt");

    /* no timedatectl answer: unknown, not an error */
    reconf(&(conf_opts){.console_extra = "timedatectl = false\n"});
    assert_int_equal(run("time", NULL), 0);
    assert_output_has("Đồng bộ NTP: không rõ");
    assert_output_has("Độ lệch: không rõ");
}

static void test_time_ntp(void **state)
{
    (void)state;
    reconf(&(conf_opts){.console_extra = "time_apply_command = echo restarted\n"
                                         "timedatectl =\n"});
    assert_int_equal(run("time ntp 0.vn.pool.ntp.org 10.0.0.1 2001:db8::123", NULL), 0);
    assert_output_has("  restarted");
    char *f = slurp_in("ntp/sohoa.conf");
    assert_non_null(f);
    assert_non_null(strstr(f, "\n[Time]\nNTP=0.vn.pool.ntp.org 10.0.0.1 2001:db8::123\n"));
    free(f);
    assert_non_null(strstr(audit(), "time ntp|(none)|0.vn.pool.ntp.org 10.0.0.1 2001:db8::123\n"));
    assert_int_equal(run("time", NULL), 0);
    assert_output_has("Máy chủ NTP: 0.vn.pool.ntp.org 10.0.0.1 2001:db8::123");

    /* bad names change nothing */
    static const char *const bad[] = {"time ntp bad_host", "time ntp -x.vn", "time ntp a..b",
                                      "time ntp 10.0.0.300", "time ntp"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (run(bad[i], NULL) != 2)
            fail_msg("`%s` was accepted:\n%s", bad[i], T.output);
    f = slurp_in("ntp/sohoa.conf");
    assert_non_null(strstr(f, "NTP=0.vn.pool.ntp.org 10.0.0.1 2001:db8::123\n"));
    free(f);

    assert_int_equal(run("time ntp none", NULL), 0);
    assert_non_null(strstr(audit(), "time ntp|0.vn.pool.ntp.org 10.0.0.1 2001:db8::123|(none)\n"));
}

static void test_time_zone_fixed(void **state)
{
    (void)state;
    assert_int_equal(run("time zone Europe/Paris", NULL), 1);
    assert_output_has("cố định là Asia/Ho_Chi_Minh");
    T.c.english = 1;
    assert_int_equal(run("time zone", NULL), 0);
    assert_output_has("Asia/Ho_Chi_Minh (+07:00), fixed");
}

/* ---------- token ---------- */

static void test_token_show(void **state)
{
    (void)state;
    assert_int_equal(run("token", NULL), 0);
    assert_output_has("Kiểu token: pkcs11 (/usr/lib/softhsm/libsofthsm2.so)");
    assert_output_has("Token: ORG (SoftHSM");
    assert_output_has("PIN: bình thường");
    assert_output_has("CN=Sở Lao động - Thương binh và Xã hội tỉnh Quảng Nam");
    assert_output_has("Cấp bởi: CN=Sohoa Test Issuing CA");
    assert_output_has("Khóa: RSA-2048");
    assert_output_has("→ 2050-01-01 06:59:59 (+07:00)"); /* 2049-12-31 23:59:59 UTC */
    assert_output_has("ngày trước khi hết hạn");
    assert_output_has("Chuỗi: Sohoa Test Issuing CA → Sohoa Test Root CA (2 chứng thư trên "
                      "token, đến gốc)");
    assert_output_lacks("CẢNH BÁO");
    assert_output_lacks(PIN);
}

static void test_token_expiry_warning(void **state)
{
    (void)state;
    /* sign expires 2049-12-31 23:59:59 UTC: 11 days after this */
    fake_now = 2524607999 - 11 * 86400 - 3600;
    assert_int_equal(run("token show", NULL), 0);
    assert_output_has("CẢNH BÁO: chứng thư hết hạn sau 11 ngày");
    T.c.english = 1;
    assert_int_equal(run("token show", NULL), 0);
    assert_output_has("WARN: the certificate expires in 11 days");

    /* the expired certificate is still shown, as expired */
    fake_now = 0;
    T.c.english = 0;
    reconf(&(conf_opts){.key_label = "expired"});
    assert_int_equal(run("token", NULL), 0);
    assert_output_has("2021-01-01");
    assert_output_has("ĐÃ HẾT HẠN");
    /* and the test signature refuses it */
    assert_int_equal(run("token test", NULL), 1);
    assert_output_has("LỖI:");
}

static void test_token_list_and_use(void **state)
{
    (void)state;
    assert_int_equal(run("token list", NULL), 0);
    assert_output_has("* ORG ");
    assert_output_has("  SPARE ");
    assert_int_equal(run("token use NOPE", NULL), 2);
    assert_output_has("NOPE");
    assert_string_equal(config_get(&T.c.cfg, "token", "token_label", ""), "ORG");
    assert_int_equal(run("token use SPARE", NULL), 0);
    assert_string_equal(config_get(&T.c.cfg, "token", "token_label", ""), "SPARE");
    char *conf = slurp_in("sohoa.conf");
    assert_non_null(strstr(conf, "token_label = SPARE"));
    free(conf);
    assert_non_null(strstr(audit(), "[token] token_label|ORG|SPARE"));
    assert_int_equal(run("token list", NULL), 0);
    assert_output_has("* SPARE ");
}

static void test_token_test(void **state)
{
    (void)state;
    assert_int_equal(run("token test", NULL), 0);
    assert_output_has("OK: ký thử RSA PKCS#1 v1.5-2048, SHA256");
    assert_output_has("kiểm tra đúng bằng chứng thư");
    assert_output_has(" ms, tổng ");
    reconf(&(conf_opts){.key_label = "sign-ec"});
    T.c.english = 1;
    assert_int_equal(run("token test", NULL), 0);
    assert_output_has("OK: test signature ECDSA-256");
    /* the file backend (PKCS#12, password = PIN) */
    char extra[300];
    snprintf(extra, sizeof extra, "%s/sign.p12", pki);
    char *conf = slurp_in("sohoa.conf"), *edited = NULL;
    char *tok = strstr(conf, "[token]\n"), *end = strstr(tok, "\n\n");
    assert_true(asprintf(&edited,
                         "%.*s[token]\nbackend = file\nkey_file = %s\npin_file = %s/token.pin%s",
                         (int)(tok - conf), conf, extra, T.dir, end) > 0);
    char path[300];
    path_in(path, sizeof path, "sohoa.conf");
    write_text(path, edited, 0640);
    free(conf);
    free(edited);
    load_conf();
    assert_int_equal(run("token test", NULL), 0);
    assert_output_has("OK: test signature RSA PKCS#1 v1.5-2048");
    assert_int_equal(run("token", NULL), 0);
    assert_output_has("Backend: file (");
    assert_output_has("PIN: the PKCS#12 file's password");
    assert_output_has("Subject: CN=Sở Lao động");
    /* a key whose certificate belongs to another key: refused */
    reconf(&(conf_opts){.key_label = "mismatch-rsa"});
    assert_int_equal(run("token test", NULL), 1);
    assert_output_has("FAIL:");
}

/* The PIN must appear nowhere: output, audit, configuration. */
static void assert_pin_hidden(const char *pin)
{
    assert_output_lacks(pin);
    assert_null(strstr(audit(), pin));
    char *conf = slurp_in("sohoa.conf");
    assert_null(strstr(conf, pin));
    free(conf);
}

static void test_token_pin_set(void **state)
{
    (void)state;
    reconf(&(conf_opts){.no_pin_file = 1});
    assert_int_equal(run("token", NULL), 1); /* no PIN: no login */
    assert_output_has("token pin set");
    assert_int_equal(run("token pin set", PIN "\n" PIN "\n"), 0);
    assert_output_has("PIN mới: ");
    assert_output_has("Nhập lại PIN mới: ");
    assert_pin_hidden(PIN);
    char path[300];
    snprintf(path, sizeof path, "%s/token.pin", T.c.data_dir);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    char *text = tu_slurp(path, NULL);
    assert_string_equal(text, PIN "\n");
    free(text);
    /* the configuration now names it, and the token opens with it */
    assert_string_equal(config_get(&T.c.cfg, "token", "pin_file", ""), path);
    assert_non_null(strstr(audit(), "token pin_file|-|(PIN)\n"));
    assert_int_equal(run("token test", NULL), 0);
}

static void test_token_pin_set_refused(void **state)
{
    (void)state;
    char path[300];
    path_in(path, sizeof path, "token.pin");
    /* two entries that differ */
    assert_int_equal(run("token pin set", "111111\n222222\n"), 1);
    assert_output_has("không khớp");
    assert_pin_hidden("111111");
    assert_pin_hidden("222222");
    /* a wrong PIN: the token refuses it, the file keeps the right one */
    assert_int_equal(run("token pin set", "999999\n999999\n"), 1);
    assert_output_has("wrong PIN");
    assert_pin_hidden("999999");
    char *text = tu_slurp(path, NULL);
    assert_string_equal(text, PIN "\n");
    free(text);
    assert_null(strstr(audit(), "token pin"));
    /* the end of input (a dropped line) changes nothing either */
    assert_int_equal(run("token pin set", ""), 1);
    /* a good one resets the token's "count low" flag again */
    assert_int_equal(run("token pin set", PIN "\n" PIN "\n"), 0);
    assert_non_null(strstr(audit(), "token pin_file|(PIN)|(PIN)\n"));
}

static void test_token_pin_change(void **state)
{
    (void)state;
    char path[300];
    path_in(path, sizeof path, "token.pin");
    /* wrong current PIN */
    assert_int_equal(run("token pin change", "000000\n654321\n654321\n"), 1);
    assert_output_has("the current PIN is wrong");
    assert_pin_hidden("000000");
    assert_pin_hidden("654321");
    /* the real change, and the PIN file follows */
    assert_int_equal(run("token pin change", PIN "\n654321\n654321\n"), 0);
    pin_changed = 1;
    assert_output_has("PIN hiện tại: ");
    assert_pin_hidden(PIN);
    assert_pin_hidden("654321");
    char *text = tu_slurp(path, NULL);
    assert_string_equal(text, "654321\n");
    free(text);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_non_null(strstr(audit(), "token pin|(PIN)|(PIN)\n"));
    /* the token itself has the new PIN: the test signature uses the file */
    assert_int_equal(run("token test", NULL), 0);
    /* and back, for the tests that follow */
    assert_int_equal(run("token pin change", "654321\n" PIN "\n" PIN "\n"), 0);
    pin_changed = 0;
    assert_int_equal(run("token test", NULL), 0);
}

/* ---------- scanner ---------- */

/* Entries left in data_dir whose name starts with `prefix`. */
static int leftovers(const char *prefix)
{
    DIR *d = opendir(T.c.data_dir);
    assert_non_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
    closedir(d);
    return n;
}

static void test_scanner_list_and_use(void **state)
{
    (void)state;
    assert_int_equal(run("scanner", NULL), 0);
    assert_output_has("Máy quét tìm thấy: (2)");
    assert_output_has("* test:0 ");
    assert_output_has("  test:1 ");
    assert_output_has("Đang dùng: test:0\n");
    assert_int_equal(run("scanner use test:9", NULL), 2);
    assert_string_equal(config_get(&T.c.cfg, "scanner", "device", ""), "test:0");
    assert_int_equal(run("scanner use test:1", NULL), 0);
    assert_string_equal(config_get(&T.c.cfg, "scanner", "device", ""), "test:1");
    assert_non_null(strstr(audit(), "[scanner] device|test:0|test:1"));
    assert_int_equal(run("scanner list", NULL), 0);
    assert_output_has("* test:1 ");
    assert_int_equal(run("scanner frob", NULL), 2);
}

static void test_scanner_test(void **state)
{
    (void)state;
    /* The test backend's grid: not blank. A4 at 200 dpi. */
    reconf(&(conf_opts){.scanner_options = "test-picture=Color pattern"});
    assert_int_equal(run("scanner test", NULL), 0);
    assert_output_has("OK: trang ");
    assert_output_has("200 dpi, color, có nội dung");
    int w = 0, h = 0;
    const char *p = strstr(T.output, "OK: trang ");
    assert_int_equal(sscanf(p, "OK: trang %d×%d", &w, &h), 2);
    assert_in_range(w, 1640, 1660); /* 210 mm */
    assert_in_range(h, 2330, 2345); /* 297 mm */
    assert_int_equal(leftovers("console-scan"), 0);
    /* a white page is reported blank */
    reconf(&(conf_opts){.scanner_options = "test-picture=Solid white"});
    T.c.english = 1;
    assert_int_equal(run("scanner test", NULL), 0);
    assert_output_has("WARN: page ");
    assert_output_has("BLANK");
    assert_int_equal(leftovers("console-scan"), 0);
    /* a device that is not there */
    assert_int_equal(run("scanner use nothere:0", NULL), 2);
    reconf(&(conf_opts){.scanner_options = "no-such-option=1"});
    assert_int_equal(run("scanner test", NULL), 1);
    assert_output_has("FAIL: ");
    assert_output_has("no-such-option");
}

/* A stand-in for the station service's control socket: records the
 * requests, answers each with `answer`. */
typedef struct fake_daemon {
    int fd;
    const char *answer;
    char requests[512];
    pthread_t th;
} fake_daemon;

static void *fake_daemon_run(void *arg)
{
    fake_daemon *d = arg;
    for (;;) {
        int cfd = accept(d->fd, NULL, NULL);
        if (cfd < 0)
            return NULL; /* shut down */
        char line[128];
        size_t n = 0;
        while (n < sizeof line - 1 && read(cfd, line + n, 1) == 1 && line[n] != '\n')
            n++;
        line[n] = '\0';
        snprintf(d->requests + strlen(d->requests), sizeof d->requests - strlen(d->requests), "%s;",
                 line);
        if (write(cfd, d->answer, strlen(d->answer)) < 0)
            break;
        close(cfd);
    }
    return NULL;
}

static void fake_daemon_start(fake_daemon *d, const char *answer)
{
    memset(d, 0, sizeof *d);
    d->answer = answer;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s/control.sock", T.c.data_dir);
    d->fd = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_true(d->fd >= 0);
    assert_int_equal(bind(d->fd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(listen(d->fd, 4), 0);
    assert_int_equal(pthread_create(&d->th, NULL, fake_daemon_run, d), 0);
}

static void fake_daemon_stop(fake_daemon *d)
{
    shutdown(d->fd, SHUT_RDWR);
    pthread_join(d->th, NULL);
    close(d->fd);
    char path[300];
    snprintf(path, sizeof path, "%s/control.sock", T.c.data_dir);
    unlink(path);
}

static void test_scanner_test_pauses_the_station(void **state)
{
    (void)state;
    /* the service lets go of the scanner for the test, and gets it back */
    reconf(&(conf_opts){.scanner_options = "test-picture=Color pattern"});
    fake_daemon d;
    fake_daemon_start(&d, "OK\nEND\n");
    assert_int_equal(run("scanner test", NULL), 0);
    fake_daemon_stop(&d);
    assert_string_equal(d.requests, "SCANNER PAUSE 120;SCANNER RESUME;");
    assert_output_has("OK: trang ");
    /* a service that is scanning refuses: nothing is scanned */
    fake_daemon_start(&d, "ERR 1 a scan is running\nEND\n");
    assert_int_equal(run("scanner test", NULL), 1);
    fake_daemon_stop(&d);
    assert_string_equal(d.requests, "SCANNER PAUSE 120;");
    assert_output_has("không nhả máy quét");
    assert_output_has("ERR 1 a scan is running");
    assert_output_lacks("Đang quét thử");
}

/* ---------- selftest ---------- */

static void test_selftest_ok(void **state)
{
    (void)state;
    assert_int_equal(run("selftest", NULL), 0);
    assert_output_has("máy quét  OK       test:0");
    assert_output_has("token     OK       ký thử");
    assert_output_has("mạng      OK       localhost:");
    assert_output_has("đĩa       OK       ");
    assert_output_has("sổ đăng ký: ok");
    assert_output_has("OCR       OK       đọc đúng 10/10 từ (vie"); /* the page as drawn here */
    assert_output_has("Tổng: 5 OK, 0 LỖI, 0 CẢNH BÁO");
}

static void test_selftest_failures(void **state)
{
    (void)state;
    char url[100];
    snprintf(url, sizeof url, "https://127.0.0.1:%d/edxml", free_port());
    reconf(&(conf_opts){.url = url, .min_free_mb = "1073741824", .key_label = "expired"});
    T.c.english = 1;
    assert_int_equal(run("selftest", NULL), 1);
    assert_output_has("scanner   OK");
    assert_output_has("token     FAIL");
    assert_output_has("network   FAIL     TCP: 127.0.0.1:");
    assert_output_has("disk      FAIL");
    assert_output_has("below the minimum of 1073741824 MB");
    assert_output_has("OCR       OK");
    assert_output_has("Summary: 2 OK, 3 FAIL, 0 WARN");
}

/* ---------- reboot, shutdown ---------- */

static void test_reboot_shutdown(void **state)
{
    (void)state;
    char flag[300];
    path_in(flag, sizeof flag, "rebooted");
    assert_int_equal(run("reboot", "n\n"), 0);
    assert_output_has("Khởi động lại trạm?");
    assert_int_equal(access(flag, F_OK), -1);
    assert_null(strstr(audit(), "reboot"));
    assert_int_equal(run("reboot", "c\n"), 0);
    assert_int_equal(access(flag, F_OK), 0);
    assert_non_null(strstr(audit(), "reboot|-|touch "));
    path_in(flag, sizeof flag, "off");
    assert_int_equal(run("shutdown", "có\n"), 0);
    assert_int_equal(access(flag, F_OK), 0);
    assert_non_null(strstr(audit(), "shutdown|-|touch "));
    assert_int_equal(run("reboot now", NULL), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_network_static, setup, teardown),
        cmocka_unit_test_setup_teardown(test_network_static_audit_and_dhcp, setup, teardown),
        cmocka_unit_test_setup_teardown(test_network_static_bad_arguments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_network_apply_command, setup, teardown),
        cmocka_unit_test_setup_teardown(test_network_proxy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_network_check_ok, setup, teardown),
        cmocka_unit_test_setup_teardown(test_network_check_wrong_ca, setup, teardown),
        cmocka_unit_test_setup_teardown(test_network_check_nothing_listening, setup, teardown),
        cmocka_unit_test_setup_teardown(test_network_check_proxy_down, setup, teardown),
        cmocka_unit_test_setup_teardown(test_network_check_token_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_time_show, setup, teardown),
        cmocka_unit_test_setup_teardown(test_time_ntp, setup, teardown),
        cmocka_unit_test_setup_teardown(test_time_zone_fixed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_token_show, setup, teardown),
        cmocka_unit_test_setup_teardown(test_token_expiry_warning, setup, teardown),
        cmocka_unit_test_setup_teardown(test_token_list_and_use, setup, teardown),
        cmocka_unit_test_setup_teardown(test_token_test, setup, teardown),
        cmocka_unit_test_setup_teardown(test_token_pin_set, setup, teardown),
        cmocka_unit_test_setup_teardown(test_token_pin_set_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_token_pin_change, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scanner_list_and_use, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scanner_test, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scanner_test_pauses_the_station, setup, teardown),
        cmocka_unit_test_setup_teardown(test_selftest_ok, setup, teardown),
        cmocka_unit_test_setup_teardown(test_selftest_failures, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reboot_shutdown, setup, teardown),
    };
    return cmocka_run_group_tests(tests, setup_all, teardown_all);
}
