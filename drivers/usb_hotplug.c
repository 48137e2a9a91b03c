/* usb_hotplug.c — CCID reader arrival/removal (see usb_hotplug.h). */
#include "usb_hotplug.h"

#include <stdlib.h>
#include <time.h>

#include "ccid.h"

/* Rescan period of the polling fallback: a token is noticed within half a
 * second, and listing devices from sysfs is cheap. */
#define POLL_INTERVAL_MS 500u
#define MAX_KNOWN 32

struct usb_hotplug {
    libusb_context *usb;
    bool polling;
    bool registered;
    bool primed; /* first scan done */
    libusb_hotplug_callback_handle handle;
    usb_hotplug_fn fn;
    void *user;
    int events;                      /* delivered during the current run */
    libusb_device *known[MAX_KNOWN]; /* referenced CCID readers present now */
    int nknown;
};

static int find_known(const usb_hotplug *h, libusb_device *dev)
{
    for (int i = 0; i < h->nknown; i++)
        if (h->known[i] == dev)
            return i;
    return -1;
}

static void arrived(usb_hotplug *h, libusb_device *dev)
{
    if (find_known(h, dev) >= 0 || h->nknown == MAX_KNOWN || !ccid_device_is_reader(dev))
        return;
    h->known[h->nknown++] = libusb_ref_device(dev);
    h->events++;
    h->fn(h->user, dev, true);
}

static void left(usb_hotplug *h, libusb_device *dev)
{
    int i = find_known(h, dev);
    if (i < 0)
        return; /* not a reader we reported */
    h->known[i] = h->known[--h->nknown];
    h->events++;
    h->fn(h->user, dev, false);
    libusb_unref_device(dev);
}

static int LIBUSB_CALL on_hotplug(libusb_context *ctx, libusb_device *dev,
                                  libusb_hotplug_event event, void *user)
{
    usb_hotplug *h = user;
    if (event == LIBUSB_HOTPLUG_EVENT_DEVICE_ARRIVED)
        arrived(h, dev);
    else if (event == LIBUSB_HOTPLUG_EVENT_DEVICE_LEFT)
        left(h, dev);
    return 0; /* stay registered */
}

usb_hotplug *usb_hotplug_new(libusb_context *usb, bool force_polling, usb_hotplug_fn fn, void *user,
                             sohoa_err *err)
{
    usb_hotplug *h = calloc(1, sizeof *h);
    if (!h) {
        err_set(err, SOHOA_EWORK, "USB hotplug: out of memory");
        return NULL;
    }
    h->usb = usb;
    h->fn = fn;
    h->user = user;
    h->polling = force_polling || !libusb_has_capability(LIBUSB_CAP_HAS_HOTPLUG);
    if (!h->polling) {
        /* No LIBUSB_HOTPLUG_ENUMERATE: readers already plugged in are found
         * by the first run's rescan, so that arrivals are always delivered
         * from usb_hotplug_run() (a reader seen by both is reported once). */
        int rc = libusb_hotplug_register_callback(
            usb, LIBUSB_HOTPLUG_EVENT_DEVICE_ARRIVED | LIBUSB_HOTPLUG_EVENT_DEVICE_LEFT, 0,
            LIBUSB_HOTPLUG_MATCH_ANY, LIBUSB_HOTPLUG_MATCH_ANY, LIBUSB_HOTPLUG_MATCH_ANY,
            on_hotplug, h, &h->handle);
        if (rc == LIBUSB_SUCCESS)
            h->registered = true;
        else
            h->polling = true; /* e.g. LIBUSB_ERROR_NOT_SUPPORTED at run time */
    }
    return h;
}

bool usb_hotplug_is_polling(const usb_hotplug *h)
{
    return h->polling;
}

/* Polling fallback: diffs the current device list against the known set. */
static int rescan(usb_hotplug *h, sohoa_err *err)
{
    libusb_device **list = NULL;
    ssize_t n = libusb_get_device_list(h->usb, &list);
    if (n < 0)
        return err_set(err, SOHOA_EWORK, "USB: cannot list devices: %s",
                       libusb_strerror((enum libusb_error)n));
    for (int i = h->nknown - 1; i >= 0; i--) {
        bool present = false;
        for (ssize_t j = 0; j < n && !present; j++)
            present = list[j] == h->known[i];
        if (!present)
            left(h, h->known[i]);
    }
    for (ssize_t j = 0; j < n; j++)
        arrived(h, list[j]);
    libusb_free_device_list(list, 1);
    return 0;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int usb_hotplug_run(usb_hotplug *h, unsigned timeout_ms, sohoa_err *err)
{
    h->events = 0;
    long long deadline = now_ms() + timeout_ms;
    for (;;) {
        if (h->polling || !h->primed) {
            h->primed = true;
            if (rescan(h, err) != 0)
                return -1;
        } else {
            long long left_ms = deadline - now_ms();
            if (left_ms < 0)
                left_ms = 0;
            struct timeval tv = {left_ms / 1000, (left_ms % 1000) * 1000};
            int rc = libusb_handle_events_timeout_completed(h->usb, &tv, NULL);
            if (rc != 0 && rc != LIBUSB_ERROR_INTERRUPTED)
                return err_set(err, SOHOA_EWORK, "USB: event handling failed: %s",
                               libusb_strerror((enum libusb_error)rc));
        }
        long long rest = deadline - now_ms();
        if (h->events > 0 || rest <= 0)
            return h->events;
        if (h->polling) {
            long long nap = rest < POLL_INTERVAL_MS ? rest : POLL_INTERVAL_MS;
            struct timespec ts = {nap / 1000, (nap % 1000) * 1000000};
            nanosleep(&ts, NULL);
        }
    }
}

void usb_hotplug_free(usb_hotplug *h)
{
    if (!h)
        return;
    if (h->registered)
        libusb_hotplug_deregister_callback(h->usb, h->handle);
    for (int i = 0; i < h->nknown; i++)
        libusb_unref_device(h->known[i]);
    free(h);
}
