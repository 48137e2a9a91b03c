/* console_net.c — `network`: the station's addresses, DHCP or a static
 * address (a systemd-networkd file), the upload proxy, and `network check`
 * (alias `ping`): the upload endpoint step by step, DNS → TCP → TLS →
 * authentication, each with its verdict, so that IT staff know which of
 * them to fix.
 */
#include "console_sys.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "fsutil.h"
#include "upload.h"
#include "version.h"

#define NETWORK_FILE_DEFAULT "/etc/systemd/network/20-sohoa.network"
/* The wired interfaces of the boards: predictable names (end0, enp1s0)
 * and the old ones (eth0). */
#define NETWORK_MATCH "en* eth*"
#define DNS_MAX 3
#define TCP_TIMEOUT_MS 5000
#define TCP_MAX_ADDRS 3
/* The authentication request: a short answer is all we wait for. */
#define AUTH_TIMEOUT_S 20
/* A server certificate this close to its end is worth a warning. */
#define CERT_WARN_DAYS 30

const char *const csys_network_sub[] = {"show", "dhcp", "static", "proxy", "check", NULL};

/* ---- show ---------------------------------------------------------------- */

/* Netmask → prefix length. */
static int mask_bits(const struct sockaddr *sa)
{
    const unsigned char *b;
    size_t n;
    if (!sa)
        return 0;
    if (sa->sa_family == AF_INET) {
        b = (const unsigned char *)&((const struct sockaddr_in *)sa)->sin_addr;
        n = 4;
    } else if (sa->sa_family == AF_INET6) {
        b = (const unsigned char *)&((const struct sockaddr_in6 *)sa)->sin6_addr;
        n = 16;
    } else {
        return 0;
    }
    int bits = 0;
    for (size_t i = 0; i < n; i++)
        bits += __builtin_popcount(b[i]);
    return bits;
}

static void show_interfaces(console *c)
{
    struct ifaddrs *ifa = NULL;
    if (getifaddrs(&ifa) != 0) {
        csys_errorf(c, "getifaddrs: %s", strerror(errno));
        return;
    }
    csys_say(c, 2, "%s\n", CON_T(c, "Giao diện:", "Interfaces:"));
    /* One row per interface, in the order the kernel lists them. */
    const char *done[64];
    int ndone = 0;
    for (struct ifaddrs *i = ifa; i; i = i->ifa_next) {
        int seen = 0;
        for (int k = 0; k < ndone && !seen; k++)
            seen = strcmp(done[k], i->ifa_name) == 0;
        if (seen || ndone == 64)
            continue;
        done[ndone++] = i->ifa_name;
        char addrs[1024] = "";
        unsigned flags = i->ifa_flags;
        for (struct ifaddrs *j = i; j; j = j->ifa_next) {
            if (strcmp(j->ifa_name, i->ifa_name) != 0 || !j->ifa_addr)
                continue;
            flags |= j->ifa_flags;
            int fam = j->ifa_addr->sa_family;
            if (fam != AF_INET && fam != AF_INET6)
                continue;
            char a[INET6_ADDRSTRLEN] = "";
            const void *src = fam == AF_INET
                                  ? (const void *)&((struct sockaddr_in *)j->ifa_addr)->sin_addr
                                  : (const void *)&((struct sockaddr_in6 *)j->ifa_addr)->sin6_addr;
            inet_ntop(fam, src, a, sizeof a);
            snprintf(addrs + strlen(addrs), sizeof addrs - strlen(addrs), "%s%s/%d",
                     *addrs ? " " : "", a, mask_bits(j->ifa_netmask));
        }
        const char *state = !(flags & IFF_UP)        ? CON_T(c, "tắt", "down")
                            : !(flags & IFF_RUNNING) ? CON_T(c, "mất cáp", "no-link")
                                                     : CON_T(c, "bật", "up");
        char first[96];
        snprintf(first, sizeof first, "  %-10s %-8s ", i->ifa_name, state);
        csys_wrap(c, first, 22, *addrs ? addrs : CON_T(c, "(không có địa chỉ)", "(no address)"));
    }
    freeifaddrs(ifa);
}

/* Default routes from /proc/net/route (IPv4, little-endian hex) and
 * /proc/net/ipv6_route. */
static void show_gateway(console *c)
{
    char gws[512] = "";
    FILE *f = fopen("/proc/net/route", "r");
    char line[512];
    while (f && fgets(line, sizeof line, f)) {
        char ifn[64];
        unsigned long dst, gw, mask;
        unsigned flags;
        if (sscanf(line, "%63s %lx %lx %x %*d %*d %*d %lx", ifn, &dst, &gw, &flags, &mask) != 5)
            continue;
        if (dst != 0 || mask != 0 || !(flags & 0x2)) /* RTF_GATEWAY */
            continue;
        struct in_addr in = {.s_addr = (uint32_t)gw}; /* already in network order */
        char a[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &in, a, sizeof a);
        snprintf(gws + strlen(gws), sizeof gws - strlen(gws), "%s%s (%s)", *gws ? ", " : "", a,
                 ifn);
    }
    if (f)
        fclose(f);
    f = fopen("/proc/net/ipv6_route", "r");
    while (f && fgets(line, sizeof line, f)) {
        char dst[33], hop[33], ifn[64];
        unsigned plen;
        if (sscanf(line, "%32s %x %*s %*s %32s %*s %*s %*s %*s %63s", dst, &plen, hop, ifn) != 4)
            continue;
        if (plen != 0 || strspn(dst, "0") != 32 || strspn(hop, "0") == 32)
            continue;
        struct in6_addr in6;
        for (int k = 0; k < 16; k++) {
            unsigned v = 0;
            sscanf(hop + 2 * k, "%2x", &v);
            in6.s6_addr[k] = (unsigned char)v;
        }
        char a[INET6_ADDRSTRLEN];
        inet_ntop(AF_INET6, &in6, a, sizeof a);
        snprintf(gws + strlen(gws), sizeof gws - strlen(gws), "%s%s (%s)", *gws ? ", " : "", a,
                 ifn);
    }
    if (f)
        fclose(f);
    char first[64];
    snprintf(first, sizeof first, "%s ", CON_T(c, "Cổng mặc định:", "Default gateway:"));
    csys_wrap(c, first, 2, *gws ? gws : CON_T(c, "(không có)", "(none)"));
}

static void show_dns(console *c)
{
    char list[512] = "";
    FILE *f = fopen("/etc/resolv.conf", "r");
    char line[512];
    while (f && fgets(line, sizeof line, f)) {
        char a[INET6_ADDRSTRLEN + 8];
        if (sscanf(line, " nameserver %53s", a) == 1)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", *list ? " " : "", a);
    }
    if (f)
        fclose(f);
    csys_wrap(c, "DNS: ", 2, *list ? list : CON_T(c, "(không có)", "(none)"));
}

/* What the network file says, in one line ("dhcp", "static A gw G dns D"),
 * into out; -1 when there is no such file. */
static int network_file_summary(const char *path, char *out, size_t cap)
{
    char *text = NULL;
    size_t len = 0;
    sohoa_err e = {0};
    out[0] = '\0';
    if (fs_read_all(path, 1 << 16, &text, &len, &e) != 0)
        return -1;
    char addr[128] = "", gw[128] = "", dns[512] = "";
    int dhcp = 0;
    for (char *l = text; l && *l;) {
        char *nl = strchr(l, '\n');
        if (nl)
            *nl = '\0';
        if (strncmp(l, "DHCP=", 5) == 0 && strncmp(l + 5, "no", 2) != 0)
            dhcp = 1;
        else if (strncmp(l, "Address=", 8) == 0)
            snprintf(addr, sizeof addr, "%s", l + 8);
        else if (strncmp(l, "Gateway=", 8) == 0)
            snprintf(gw, sizeof gw, "%s", l + 8);
        else if (strncmp(l, "DNS=", 4) == 0)
            snprintf(dns + strlen(dns), sizeof dns - strlen(dns), " %s", l + 4);
        l = nl ? nl + 1 : NULL;
    }
    free(text);
    if (dhcp)
        snprintf(out, cap, "dhcp");
    else if (*addr)
        snprintf(out, cap, "static %s%s%s%s%s", addr, *gw ? " gw " : "", gw, *dns ? " dns" : "",
                 dns);
    else
        snprintf(out, cap, "?");
    return 0;
}

static int net_show(console *c)
{
    show_interfaces(c);
    show_gateway(c);
    show_dns(c);
    char *path = console_config_path(c, csys_key(c, "network_file", NETWORK_FILE_DEFAULT));
    if (!path)
        return 1;
    char sum[768];
    char first[64];
    snprintf(first, sizeof first, "%s ", CON_T(c, "Cấu hình:", "Configured:"));
    char text[1200];
    if (network_file_summary(path, sum, sizeof sum) != 0)
        snprintf(text, sizeof text, "%s %s)",
                 CON_T(c, "mặc định của hệ thống (chưa có", "the system's default (no"), path);
    else
        snprintf(text, sizeof text, "%s (%s)", sum, path);
    csys_wrap(c, first, 2, text);
    free(path);
    const char *proxy = config_get(&c->cfg, "upload", "proxy", "");
    snprintf(first, sizeof first, "%s ", CON_T(c, "Proxy tải lên:", "Upload proxy:"));
    csys_wrap(c, first, 2,
              *proxy ? proxy
                     : CON_T(c, "(không; theo biến môi trường)", "(none; from the environment)"));
    return 0;
}

/* ---- dhcp / static --------------------------------------------------------- */

typedef struct ipaddr {
    int family; /* AF_INET or AF_INET6 */
    unsigned char b[16];
} ipaddr;

static int parse_ip(const char *s, ipaddr *a)
{
    memset(a, 0, sizeof *a);
    if (inet_pton(AF_INET, s, a->b) == 1) {
        a->family = AF_INET;
        return 0;
    }
    if (inet_pton(AF_INET6, s, a->b) == 1) {
        a->family = AF_INET6;
        return 0;
    }
    return -1;
}

static size_t ip_len(const ipaddr *a)
{
    return a->family == AF_INET ? 4 : 16;
}

/* 1 when a and b share the first `prefix` bits. */
static int same_subnet(const ipaddr *a, const ipaddr *b, int prefix)
{
    for (int i = 0; i < prefix; i++) {
        int byte = i / 8, bit = 7 - i % 8;
        if (((a->b[byte] >> bit) & 1) != ((b->b[byte] >> bit) & 1))
            return 0;
    }
    return 1;
}

/* 1 when the host part of `a` (after `prefix` bits) is all `v` (0 or 1). */
static int host_part_all(const ipaddr *a, int prefix, int v)
{
    int bits = (int)ip_len(a) * 8;
    for (int i = prefix; i < bits; i++)
        if (((a->b[i / 8] >> (7 - i % 8)) & 1) != v)
            return 0;
    return 1;
}

static void ip_str(const ipaddr *a, char *out, size_t cap)
{
    inet_ntop(a->family, a->b, out, (socklen_t)cap);
}

/* An address a station may take: not loopback, multicast, unspecified. */
static int usable_host(const ipaddr *a)
{
    if (a->family == AF_INET)
        return a->b[0] != 0 && a->b[0] != 127 && a->b[0] < 224;
    static const unsigned char zero[16];
    if (memcmp(a->b, zero, 16) == 0 || a->b[0] == 0xff)
        return 0;
    static const unsigned char lo[16] = {[15] = 1};
    return memcmp(a->b, lo, 16) != 0;
}

static int bad_arg(console *c, const char *what, const char *value, const char *vi, const char *en)
{
    csys_errorf(c, "%s %s: %s", what, value, CON_T(c, vi, en));
    return 2;
}

/* Writes the network file, audits, applies. */
static int network_write(console *c, const char *body, const char *summary)
{
    char *path = console_config_path(c, csys_key(c, "network_file", NETWORK_FILE_DEFAULT));
    if (!path)
        return 1;
    char old[768];
    if (network_file_summary(path, old, sizeof old) != 0)
        snprintf(old, sizeof old, "(none)");
    char *text = NULL;
    if (asprintf(&text,
                 "# Written by `sohoa console` (network); change it there, not by hand.\n"
                 "[Match]\nName=" NETWORK_MATCH "\n\n[Network]\n%s",
                 body) < 0) {
        free(path);
        return 1;
    }
    if (csys_write_config_file(c, path, text) != 0) {
        free(path);
        return 1;
    }
    console_audit(c, "network", old, summary);
    char msg[1200];
    snprintf(msg, sizeof msg, "%s %s: %s", CON_T(c, "Đã ghi", "Written"), path, summary);
    csys_wrap(c, "", 2, msg);
    free(path);
    return csys_apply(c, "network_apply_command", "networkctl reload",
                      CON_T(c, "Có hiệu lực sau lệnh `networkctl reload` (hoặc khởi động lại).",
                            "Takes effect with `networkctl reload` (or a reboot)."));
}

static int net_dhcp(console *c)
{
    return network_write(c, "DHCP=yes\n", "dhcp");
}

static int net_static(console *c, int argc, char **argv)
{
    /* network static ADDR/PREFIX GATEWAY [DNS...] */
    const char *cidr = argv[2];
    const char *slash = strchr(cidr, '/');
    if (!slash || slash == cidr || !slash[1] || strlen(cidr) > 64)
        return bad_arg(c, CON_T(c, "địa chỉ", "address"), cidr,
                       "viết dạng ĐỊA_CHỈ/TIỀN_TỐ, ví dụ 192.168.1.20/24",
                       "write it as ADDRESS/PREFIX, e.g. 192.168.1.20/24");
    char host[65];
    snprintf(host, sizeof host, "%.*s", (int)(slash - cidr), cidr);
    ipaddr addr, gw;
    if (parse_ip(host, &addr) != 0)
        return bad_arg(c, CON_T(c, "địa chỉ", "address"), host,
                       "không phải địa chỉ IPv4/IPv6 hợp lệ", "not a valid IPv4/IPv6 address");
    char *end = NULL;
    errno = 0;
    long prefix = strtol(slash + 1, &end, 10);
    int maxp = addr.family == AF_INET ? 32 : 128;
    if (*end || errno || slash[1] == '-' || slash[1] == '+' || prefix < 1 || prefix > maxp) {
        char range[32];
        snprintf(range, sizeof range, "1..%d", maxp);
        csys_errorf(c, "%s %s: %s %s", CON_T(c, "tiền tố", "prefix"), slash + 1,
                    CON_T(c, "phải là số trong khoảng", "must be a number in"), range);
        return 2;
    }
    if (!usable_host(&addr))
        return bad_arg(c, CON_T(c, "địa chỉ", "address"), host,
                       "là địa chỉ loopback/multicast/không xác định; chọn địa chỉ của mạng LAN",
                       "is a loopback/multicast/unspecified address; choose a LAN address");
    if (addr.family == AF_INET && prefix <= 30 &&
        (host_part_all(&addr, (int)prefix, 0) || host_part_all(&addr, (int)prefix, 1)))
        return bad_arg(c, CON_T(c, "địa chỉ", "address"), cidr,
                       "là địa chỉ mạng hoặc quảng bá của mạng con; chọn một địa chỉ máy",
                       "is the subnet's network or broadcast address; choose a host address");
    if (parse_ip(argv[3], &gw) != 0 || gw.family != addr.family)
        return bad_arg(c, CON_T(c, "cổng", "gateway"), argv[3],
                       "không phải địa chỉ IP cùng loại với địa chỉ trạm",
                       "is not an IP address of the same family as the station's");
    if (!same_subnet(&addr, &gw, (int)prefix))
        return bad_arg(c, CON_T(c, "cổng", "gateway"), argv[3],
                       "nằm ngoài mạng con của địa chỉ; kiểm tra địa chỉ, tiền tố và cổng",
                       "is outside the address's subnet; check the address, prefix and gateway");
    if (memcmp(gw.b, addr.b, ip_len(&addr)) == 0 || !usable_host(&gw) ||
        (gw.family == AF_INET && prefix <= 30 &&
         (host_part_all(&gw, (int)prefix, 0) || host_part_all(&gw, (int)prefix, 1))))
        return bad_arg(c, CON_T(c, "cổng", "gateway"), argv[3],
                       "không dùng được làm cổng (trùng địa chỉ trạm, địa chỉ mạng hay quảng bá)",
                       "cannot be the gateway (the station's own, network or broadcast address)");
    if (argc - 4 > DNS_MAX)
        return con_usage(c, csys_cmd("network"));
    char a[INET6_ADDRSTRLEN], g[INET6_ADDRSTRLEN];
    ip_str(&addr, a, sizeof a);
    ip_str(&gw, g, sizeof g);
    char body[1024], summary[768], dns_list[512] = "";
    snprintf(body, sizeof body, "Address=%s/%ld\nGateway=%s\n", a, prefix, g);
    for (int i = 4; i < argc; i++) {
        ipaddr d;
        if (parse_ip(argv[i], &d) != 0)
            return bad_arg(c, "DNS", argv[i], "không phải địa chỉ IP", "not an IP address");
        char ds[INET6_ADDRSTRLEN];
        ip_str(&d, ds, sizeof ds);
        snprintf(body + strlen(body), sizeof body - strlen(body), "DNS=%s\n", ds);
        snprintf(dns_list + strlen(dns_list), sizeof dns_list - strlen(dns_list), " %s", ds);
    }
    snprintf(summary, sizeof summary, "static %s/%ld gw %s%s%s", a, prefix, g,
             *dns_list ? " dns" : "", dns_list);
    return network_write(c, body, summary);
}

/* ---- proxy ------------------------------------------------------------------ */

static int net_proxy(console *c, const char *value)
{
    if (strcmp(value, "none") == 0 || strcmp(value, "-") == 0)
        return csys_set(c, "upload", "proxy", "", 1);
    CURLU *u = curl_url();
    if (!u)
        return 1;
    char *scheme = NULL, *host = NULL;
    int ok = 0;
    for (const char *p = value; *p; p++)
        if ((unsigned char)*p <= 0x20 || *p == 0x7f)
            goto done;
    if (curl_url_set(u, CURLUPART_URL, value, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !*host)
        goto done;
    static const char *const schemes[] = {"http",    "https",  "socks4",
                                          "socks4a", "socks5", "socks5h"};
    for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++)
        ok |= strcasecmp(scheme, schemes[i]) == 0;
done:
    curl_free(scheme);
    curl_free(host);
    curl_url_cleanup(u);
    if (!ok)
        return bad_arg(c, "proxy", value,
                       "cần URL dạng http://MÁY:CỔNG (hoặc https://, socks5://), hay none",
                       "expected a URL such as http://HOST:PORT (or https://, socks5://), or "
                       "none");
    return csys_set(c, "upload", "proxy", value, 0);
}

/* ---- check ------------------------------------------------------------------ */

typedef struct net_step {
    const char *name;
    csys_verdict v;
    int run;
    char text[640];
} net_step;

typedef struct net_check {
    net_step dns, tcp, tls, auth;
} net_check;

static void step_set(net_step *s, csys_verdict v, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void step_set(net_step *s, csys_verdict v, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->text, sizeof s->text, fmt, ap);
    va_end(ap);
    s->v = v;
    s->run = 1;
}

/* The URL's host (IPv6 brackets removed) and port. */
static int url_parts(const char *url, char *host, size_t hcap, char *port, size_t pcap, int *https)
{
    CURLU *u = curl_url();
    char *h = NULL, *p = NULL, *s = NULL;
    int rc = -1;
    if (u && curl_url_set(u, CURLUPART_URL, url, CURLU_NON_SUPPORT_SCHEME) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &h, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_PORT, &p, CURLU_DEFAULT_PORT) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_SCHEME, &s, 0) == CURLUE_OK) {
        size_t n = strlen(h);
        if (n >= 2 && h[0] == '[' && h[n - 1] == ']')
            snprintf(host, hcap, "%.*s", (int)(n - 2), h + 1);
        else
            snprintf(host, hcap, "%s", h);
        snprintf(port, pcap, "%s", p);
        if (https)
            *https = strcasecmp(s, "https") == 0;
        rc = 0;
    }
    curl_free(h);
    curl_free(p);
    curl_free(s);
    curl_url_cleanup(u);
    return rc;
}

static void addr_str(const struct addrinfo *ai, char *out, size_t cap)
{
    char a[INET6_ADDRSTRLEN] = "?";
    const void *src = ai->ai_family == AF_INET
                          ? (const void *)&((struct sockaddr_in *)ai->ai_addr)->sin_addr
                          : (const void *)&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr;
    inet_ntop(ai->ai_family, src, a, sizeof a);
    snprintf(out, cap, ai->ai_family == AF_INET6 ? "[%s]" : "%s", a);
}

/* Connects to one address within `timeout_ms`; 0, or an errno value. */
static int tcp_connect(const struct addrinfo *ai, int timeout_ms)
{
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return errno;
    int e = 0;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        e = errno;
        if (e == EINPROGRESS) {
            struct pollfd pf = {.fd = fd, .events = POLLOUT};
            int r;
            do
                r = poll(&pf, 1, timeout_ms);
            while (r < 0 && errno == EINTR);
            if (r == 0) {
                e = ETIMEDOUT;
            } else if (r < 0) {
                e = errno;
            } else {
                socklen_t l = sizeof e;
                if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &l) != 0)
                    e = errno;
            }
        }
    }
    close(fd);
    return e;
}

static void step_dns(console *c, const char *host, const char *port, int proxied,
                     struct addrinfo **res, net_step *s)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG};
    int r = getaddrinfo(host, port, &hints, res);
    if (r != 0) {
        *res = NULL;
        if (proxied)
            step_set(s, CSYS_WARN, "%s %s (%s); %s",
                     CON_T(c, "không phân giải được", "cannot resolve"), host, gai_strerror(r),
                     CON_T(c, "proxy sẽ tự phân giải", "the proxy resolves it itself"));
        else
            step_set(s, CSYS_FAIL, "%s %s (%s); %s",
                     CON_T(c, "không phân giải được", "cannot resolve"), host, gai_strerror(r),
                     CON_T(c, "kiểm tra DNS (network) và [upload] url",
                           "check DNS (network) and [upload] url"));
        return;
    }
    char list[400] = "";
    int n = 0;
    for (struct addrinfo *ai = *res; ai && n < 4; ai = ai->ai_next, n++) {
        char a[INET6_ADDRSTRLEN + 2];
        addr_str(ai, a, sizeof a);
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", n ? ", " : "", a);
    }
    step_set(s, CSYS_OK, "%s → %s", host, list);
}

static void step_tcp(console *c, struct addrinfo *res, const char *port, const char *via,
                     net_step *s)
{
    int e = 0, n = 0;
    char a[INET6_ADDRSTRLEN + 2] = "?";
    for (struct addrinfo *ai = res; ai && n < TCP_MAX_ADDRS; ai = ai->ai_next, n++) {
        addr_str(ai, a, sizeof a);
        long t0 = csys_ms();
        e = tcp_connect(ai, TCP_TIMEOUT_MS);
        if (e == 0) {
            step_set(s, CSYS_OK, "%s%s:%s (%ld ms)", via, a, port, csys_ms() - t0);
            return;
        }
    }
    step_set(s, CSYS_FAIL, "%s%s:%s: %s; %s", via, a, port, strerror(e),
             e == ECONNREFUSED && *via
                 ? CON_T(c, "proxy không chạy ở cổng này: kiểm tra [upload] proxy",
                         "no proxy listens on that port: check [upload] proxy")
             : e == ECONNREFUSED ? CON_T(c, "không có dịch vụ ở cổng này: kiểm tra [upload] url",
                                         "nothing listens on that port: check [upload] url")
             : e == ETIMEDOUT ? CON_T(c, "không trả lời trong 5 s: tường lửa hay cổng mạng?",
                                      "no answer in 5 s: a firewall, or the gateway?")
                              : CON_T(c, "kiểm tra mạng và cổng mặc định",
                                      "check the network and the default gateway"));
}

/* The TLS and HTTP options the uploader uses (upload.c), for our own
 * handles. Returns a CURLcode. */
static CURLcode curl_common(CURL *h, const upload_options *o, char *errbuf)
{
    CURLcode rc = CURLE_OK;
#define SET(opt, val)                                                                              \
    do {                                                                                           \
        if (rc == CURLE_OK)                                                                        \
            rc = curl_easy_setopt(h, opt, val);                                                    \
    } while (0)
    SET(CURLOPT_URL, o->url);
    SET(CURLOPT_PROTOCOLS_STR, "https,http");
    SET(CURLOPT_FOLLOWLOCATION, 0L);
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_VERBOSE, 0L); /* the Authorization header must never reach a log */
    SET(CURLOPT_USERAGENT, "sohoa/" SOHOA_VERSION " (console check)");
    SET(CURLOPT_ERRORBUFFER, errbuf);
    SET(CURLOPT_SSL_VERIFYPEER, 1L);
    SET(CURLOPT_SSL_VERIFYHOST, 2L);
    SET(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    if (o->ca_file) {
        SET(CURLOPT_CAINFO, o->ca_file);
        SET(CURLOPT_CAPATH, (char *)NULL);
    }
    if (o->client_cert) {
        SET(CURLOPT_SSLCERT, o->client_cert);
        SET(CURLOPT_SSLCERTTYPE, "PEM");
        SET(CURLOPT_SSLKEY, o->client_key);
        SET(CURLOPT_SSLKEYTYPE, "PEM");
    }
    if (o->proxy)
        SET(CURLOPT_PROXY, o->proxy);
    SET(CURLOPT_CONNECTTIMEOUT, o->connect_timeout > 0 ? o->connect_timeout : 10L);
#undef SET
    return rc;
}

/* What the handshake showed of the server's certificate (CURLOPT_CERTINFO:
 * the connection of a CONNECT_ONLY transfer is no longer the handle's, so
 * its TLS session cannot be asked): its name and expiry. */
static csys_verdict tls_peer(console *c, CURL *h, char *out, size_t cap)
{
    struct curl_certinfo *ci = NULL;
    snprintf(
        out, cap, "%s",
        CON_T(c, "bắt tay xong, máy chủ được tin cậy", "handshake done, the server is trusted"));
    if (curl_easy_getinfo(h, CURLINFO_CERTINFO, &ci) != CURLE_OK || !ci || ci->num_of_certs < 1)
        return CSYS_OK;
    char cn[128] = "?", until[64] = "";
    csys_verdict v = CSYS_OK;
    for (struct curl_slist *l = ci->certinfo[0]; l; l = l->next) {
        if (strncmp(l->data, "Subject:", 8) == 0) {
            const char *p = strstr(l->data, "CN = ");
            size_t skip = 5;
            if (!p) {
                p = strstr(l->data, "CN=");
                skip = 3;
            }
            if (p)
                snprintf(cn, sizeof cn, "%.*s", (int)strcspn(p + skip, ",/"), p + skip);
        } else if (strncmp(l->data, "Expire date:", 12) == 0) {
            /* "Dec 31 23:59:59 2049 GMT" (ASN1_TIME_print) */
            struct tm tm;
            memset(&tm, 0, sizeof tm);
            const char *end = strptime(l->data + 12, "%b %d %H:%M:%S %Y", &tm);
            if (!end)
                continue;
            time_t na = timegm(&tm);
            snprintf(until, sizeof until, ", %s %04d-%02d-%02d", CON_T(c, "hết hạn", "expires"),
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
            long days = (long)((na - time(NULL)) / 86400);
            if (days < CERT_WARN_DAYS) {
                v = CSYS_WARN;
                snprintf(until + strlen(until), sizeof until - strlen(until), " (%s %ld %s)",
                         CON_T(c, "còn", "in"), days, CON_T(c, "ngày", "days"));
            }
        }
    }
    snprintf(out, cap, "%s %s%s", CON_T(c, "máy chủ", "server"), cn, until);
    return v;
}

static void step_tls(console *c, const upload_options *o, net_step *s)
{
    char errbuf[CURL_ERROR_SIZE] = "";
    CURL *h = curl_easy_init();
    if (!h) {
        step_set(s, CSYS_FAIL, "libcurl: out of memory");
        return;
    }
    CURLcode rc = curl_common(h, o, errbuf);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(h, CURLOPT_CONNECT_ONLY, 1L);
    if (rc == CURLE_OK)
        rc = curl_easy_setopt(h, CURLOPT_CERTINFO, 1L);
    if (rc == CURLE_OK)
        rc = curl_easy_perform(h);
    const char *why = *errbuf ? errbuf : curl_easy_strerror(rc);
    if (rc == CURLE_OK) {
        char peer[300];
        csys_verdict v = tls_peer(c, h, peer, sizeof peer);
        step_set(s, v, "%s%s", peer,
                 v == CSYS_WARN ? CON_T(c, "; chứng thư máy chủ sắp hết hạn",
                                        "; the server's certificate expires soon")
                                : "");
    } else if (rc == CURLE_PEER_FAILED_VERIFICATION) {
        step_set(s, CSYS_FAIL, "%s (%s); %s",
                 CON_T(c, "chứng thư máy chủ không được tin cậy",
                       "the server's certificate is not trusted"),
                 why,
                 CON_T(c, "kiểm tra [upload] ca_file và chuỗi chứng thư của máy chủ",
                       "check [upload] ca_file and the server's certificate chain"));
    } else if (rc == CURLE_SSL_CACERT_BADFILE) {
        step_set(s, CSYS_FAIL, "[upload] ca_file %s: %s", o->ca_file ? o->ca_file : "", why);
    } else if (rc == CURLE_SSL_CERTPROBLEM) {
        step_set(s, CSYS_FAIL, "%s (%s); %s",
                 CON_T(c, "chứng thư máy khách hỏng", "the client certificate is unusable"), why,
                 CON_T(c, "kiểm tra [upload] client_cert, client_key",
                       "check [upload] client_cert and client_key"));
    } else if (rc == CURLE_OPERATION_TIMEDOUT) {
        step_set(s, CSYS_FAIL, "%s (%s)",
                 CON_T(c, "bắt tay TLS quá thời gian", "the TLS handshake timed out"), why);
    } else {
        step_set(s, CSYS_FAIL, "%s (%s)", CON_T(c, "bắt tay TLS thất bại", "TLS handshake failed"),
                 why);
    }
    curl_easy_cleanup(h);
}

static size_t discard_cb(char *data, size_t size, size_t nmemb, void *ud)
{
    (void)data;
    (void)ud;
    return size * nmemb;
}

/* An empty POST: the server checks the credentials, then refuses the
 * empty envelope (400) — nothing is stored. 401/403 is the answer that
 * says the credentials are wrong. (The reference receiver answers HEAD
 * and OPTIONS with 501 and GET without authentication, so those would not
 * tell.) */
static void step_auth(console *c, const upload_options *o, net_step *s)
{
    char errbuf[CURL_ERROR_SIZE] = "";
    CURL *h = curl_easy_init();
    struct curl_slist *hdr = NULL;
    char *ctype = NULL, *bearer = NULL;
    if (!h || asprintf(&ctype, "Content-Type: %s", o->content_type) < 0 ||
        (o->auth_token && asprintf(&bearer, "Authorization: Bearer %s", o->auth_token) < 0)) {
        curl_easy_cleanup(h);
        free(ctype);
        step_set(s, CSYS_FAIL, "out of memory");
        return;
    }
    struct curl_slist *t = curl_slist_append(NULL, ctype);
    if (t && bearer)
        t = curl_slist_append(t, bearer) ? t : NULL;
    hdr = t;
    CURLcode rc = hdr ? curl_common(h, o, errbuf) : CURLE_OUT_OF_MEMORY;
#define SET(opt, val)                                                                              \
    do {                                                                                           \
        if (rc == CURLE_OK)                                                                        \
            rc = curl_easy_setopt(h, opt, val);                                                    \
    } while (0)
    SET(CURLOPT_HTTPHEADER, hdr);
    SET(CURLOPT_POST, 1L);
    SET(CURLOPT_POSTFIELDS, "");
    SET(CURLOPT_POSTFIELDSIZE, 0L);
    SET(CURLOPT_TIMEOUT, (long)AUTH_TIMEOUT_S);
    SET(CURLOPT_WRITEFUNCTION, discard_cb);
#undef SET
    if (rc == CURLE_OK)
        rc = curl_easy_perform(h);
    long code = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_cleanup(h);
    curl_slist_free_all(hdr);
    free(ctype);
    if (bearer) {
        explicit_bzero(bearer, strlen(bearer));
        free(bearer);
    }
    const char *creds = o->auth_token && o->client_cert ? "auth_token_file, client_cert"
                        : o->auth_token                 ? "auth_token_file"
                        : o->client_cert                ? "client_cert"
                                                        : NULL;
    if (rc != CURLE_OK) {
        const char *why = *errbuf ? errbuf : curl_easy_strerror(rc);
        /* A server that wants a client certificate says so only after the
         * handshake, when the request is read (TLS 1.3). */
        if (strstr(why, "certificate") || strstr(why, "alert"))
            step_set(s, CSYS_FAIL, "%s (%s); %s",
                     CON_T(c, "máy chủ từ chối kết nối", "the server refused the connection"), why,
                     CON_T(c, "có thể cần chứng thư máy khách: [upload] client_cert, client_key",
                           "it may want a client certificate: [upload] client_cert, client_key"));
        else
            step_set(s, CSYS_FAIL, "%s (%s)", CON_T(c, "yêu cầu thất bại", "the request failed"),
                     why);
        return;
    }
    if (code == 401 || code == 403) {
        step_set(
            s, CSYS_FAIL, "HTTP %ld: %s; %s %s", code,
            CON_T(c, "máy chủ từ chối thông tin xác thực", "the server refused the credentials"),
            CON_T(c, "kiểm tra", "check"),
            creds ? creds
                  : CON_T(c, "[upload] auth_token_file (chưa đặt)",
                          "[upload] auth_token_file (not set)"));
    } else if (code == 407) {
        step_set(s, CSYS_FAIL, "HTTP 407: %s",
                 CON_T(c, "proxy đòi xác thực; thêm user:pass vào [upload] proxy",
                       "the proxy wants credentials; add user:pass to [upload] proxy"));
    } else if (code == 404 || code == 405 || (code >= 300 && code < 400)) {
        step_set(s, CSYS_FAIL, "HTTP %ld: %s", code,
                 CON_T(c, "không có điểm nhận ở URL này; kiểm tra [upload] url",
                       "no endpoint at this URL; check [upload] url"));
    } else if (code >= 500) {
        step_set(s, CSYS_WARN, "HTTP %ld: %s", code,
                 CON_T(c, "máy chủ đang lỗi; tài liệu sẽ được gửi lại sau",
                       "the server reports an error; documents will be retried"));
    } else {
        step_set(s, CSYS_OK, "HTTP %ld: %s%s%s%s", code,
                 CON_T(c, "máy chủ trả lời, thông tin xác thực được chấp nhận",
                       "the server answers and accepts the credentials"),
                 creds ? " (" : "", creds ? creds : "", creds ? ")" : "");
    }
}

csys_verdict csys_network_check(console *c, int verbose, char *summary, size_t cap)
{
    char sum_buf[8];
    if (!summary) {
        summary = sum_buf;
        cap = sizeof sum_buf;
    }
    upload_options o;
    sohoa_err err = {0};
    if (upload_options_load(&c->cfg, &o, &err) != 0) {
        snprintf(summary, cap, "%s", err.msg);
        if (verbose)
            csys_error(c, &err);
        return CSYS_FAIL;
    }
    net_check k = {.dns = {.name = "DNS"},
                   .tcp = {.name = "TCP"},
                   .tls = {.name = "TLS"},
                   .auth = {.name = CON_T(c, "xác thực", "auth")}};
    char host[256], port[16], phost[256] = "", pport[16] = "";
    int https = 1;
    if (url_parts(o.url, host, sizeof host, port, sizeof port, &https) != 0) {
        snprintf(summary, cap, "[upload] url %s: %s", o.url,
                 CON_T(c, "không đọc được", "cannot be parsed"));
        upload_options_free(&o);
        return CSYS_FAIL;
    }
    if (verbose)
        csys_wrap(c, CON_T(c, "Kiểm tra ", "Checking "), 2, o.url);
    long t0 = csys_ms();
    struct addrinfo *res = NULL;
    step_dns(c, host, port, o.proxy != NULL, &res, &k.dns);
    if (k.dns.v != CSYS_FAIL) {
        if (o.proxy) {
            /* The station talks to the proxy, which talks to the server. */
            freeaddrinfo(res);
            res = NULL;
            net_step pd = {.name = "DNS"};
            if (url_parts(o.proxy, phost, sizeof phost, pport, sizeof pport, NULL) != 0)
                step_set(&k.tcp, CSYS_FAIL, "[upload] proxy %s: %s", o.proxy,
                         CON_T(c, "không đọc được", "cannot be parsed"));
            else if (step_dns(c, phost, pport, 0, &res, &pd), pd.v == CSYS_FAIL)
                step_set(&k.tcp, CSYS_FAIL, "proxy: %s", pd.text);
            else
                step_tcp(c, res, pport, "proxy ", &k.tcp);
        } else {
            step_tcp(c, res, port, "", &k.tcp);
        }
    }
    if (res)
        freeaddrinfo(res);
    if (k.tcp.run && k.tcp.v != CSYS_FAIL) {
        if (https)
            step_tls(c, &o, &k.tls);
        else
            step_set(&k.tls, CSYS_OK, "%s",
                     CON_T(c, "không dùng (http:// chỉ cho máy này)",
                           "not used (http:// is for this machine only)"));
    }
    if (k.tls.run && k.tls.v != CSYS_FAIL)
        step_auth(c, &o, &k.auth);

    net_step *steps[] = {&k.dns, &k.tcp, &k.tls, &k.auth};
    csys_verdict worst = CSYS_OK;
    net_step *bad = NULL;
    for (int i = 0; i < 4; i++) {
        net_step *s = steps[i];
        if (verbose)
            csys_row(c, 2, s->name, 9, s->run ? csys_verdict_name(c, s->v) : NULL,
                     s->run ? s->text : CON_T(c, "bỏ qua", "skipped"));
        if (s->run && s->v > worst) {
            worst = s->v;
            bad = s;
        }
    }
    if (bad)
        snprintf(summary, cap, "%s: %s", bad->name, bad->text);
    else
        snprintf(summary, cap, "%s:%s DNS, TCP, TLS, %s (%ld ms)", host, port,
                 CON_T(c, "xác thực đều tốt", "auth all good"), csys_ms() - t0);
    if (verbose) {
        const char *verdict =
            worst == CSYS_OK ? CON_T(c, "máy chủ nhận sẵn sàng", "the upload endpoint is ready")
            : worst == CSYS_WARN ? CON_T(c, "dùng được, xem cảnh báo", "usable, see the warning")
                                 : CON_T(c, "chưa gửi được, sửa bước LỖI ở trên",
                                         "documents cannot go out; fix the FAIL step above");
        csys_say(c, 2, "%s %s — %s\n", CON_T(c, "Kết luận:", "Verdict:"),
                 csys_verdict_name(c, worst), verdict);
    }
    upload_options_free(&o);
    return worst;
}

/* ---- the command -------------------------------------------------------------- */

int csys_cmd_network(console *c, int argc, char **argv)
{
    const console_cmd *me = csys_cmd(argv[0]);
    if (strcmp(argv[0], "ping") == 0) {
        if (argc != 1)
            return con_usage(c, me);
        return csys_network_check(c, 1, NULL, 0) == CSYS_FAIL ? 1 : 0;
    }
    if (argc == 1 || (argc == 2 && strcmp(argv[1], "show") == 0))
        return net_show(c);
    if (argc == 2 && strcmp(argv[1], "dhcp") == 0)
        return net_dhcp(c);
    if (argc >= 4 && strcmp(argv[1], "static") == 0)
        return net_static(c, argc, argv);
    if (argc == 3 && strcmp(argv[1], "proxy") == 0)
        return net_proxy(c, argv[2]);
    if (argc == 2 && (strcmp(argv[1], "check") == 0 || strcmp(argv[1], "ping") == 0))
        return csys_network_check(c, 1, NULL, 0) == CSYS_FAIL ? 1 : 0;
    return con_usage(c, me);
}
