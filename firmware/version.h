/* version.h — the firmware version, shown by `sohoa version` and in the
 * PDF's producer field. */
#ifndef SOHOA_VERSION_H
#define SOHOA_VERSION_H

#define SOHOA_VERSION "0.1.0"

#endif
