/* usb_hotplug.h — notices CCID readers (USB tokens) arriving and leaving.
 *
 * Uses libusb hotplug callbacks when the platform has them and falls back to
 * rescanning the device list otherwise (LIBUSB_CAP_HAS_HOTPLUG absent, e.g.
 * no udev/netlink in a minimal image). Either way the caller's function is
 * called from usb_hotplug_run(), in the caller's thread, so it needs no
 * locking.
 */
#ifndef SOHOA_USB_HOTPLUG_H
#define SOHOA_USB_HOTPLUG_H

#include <libusb.h>
#include <stdbool.h>

#include "../firmware/err.h"

/* Called once per CCID reader that arrived (arrived = true) or left. `dev`
 * is only valid during the call (take libusb_ref_device() to keep it). */
typedef void (*usb_hotplug_fn)(void *user, libusb_device *dev, bool arrived);

typedef struct usb_hotplug usb_hotplug;

/* Starts watching `usb` (borrowed) for CCID readers. Readers already present
 * are reported as arrivals by the first usb_hotplug_run(). force_polling
 * selects the rescan fallback even when hotplug is available (tests, and
 * systems whose hotplug events are unreliable). */
usb_hotplug *usb_hotplug_new(libusb_context *usb, bool force_polling, usb_hotplug_fn fn, void *user,
                             sohoa_err *err);

/* Waits up to timeout_ms for events and delivers them. Returns the number of
 * events delivered, or -1 with err set. */
int usb_hotplug_run(usb_hotplug *h, unsigned timeout_ms, sohoa_err *err);

/* True when the polling fallback is in use. */
bool usb_hotplug_is_polling(const usb_hotplug *h);

/* Stops watching and frees `h`; NULL is accepted. */
void usb_hotplug_free(usb_hotplug *h);

#endif
