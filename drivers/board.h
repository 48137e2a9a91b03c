/* board.h — what is wired where on a station board: the board config.
 *
 * An INI file (firmware/config.h syntax), e.g. board/boards/rpi4.conf:
 *
 *   [board]
 *   name = Raspberry Pi 4 Model B
 *   gpio_chip = gpiochip0       ; chip of the panel lines (name, path, label or number)
 *   button_line = 17            ; front-panel button
 *   button_active_low = yes     ; button switches to ground (default yes)
 *   led_green = 22
 *   led_yellow = 23
 *   led_red = 24
 *   buzzer_line = 25            ; optional
 *   console = /dev/ttyAMA0      ; serial line of the IT console
 *
 * Every line is optional: a board may have fewer LEDs (the panel degrades,
 * see panel.h), no buzzer, or no button (presses then come only from
 * `sohoa press`). A key with an empty value counts as absent. gpio_chip is
 * required as soon as any line is given; two roles on one line, an unknown
 * key in [board] or a malformed value is an error naming the file, line
 * and key. Other sections are left to their readers.
 *
 * Lines are offsets on the chip (on a Raspberry Pi the BCM numbers, not the
 * header pin numbers), from 0 to BOARD_MAX_LINE.
 */
#ifndef SOHOA_BOARD_H
#define SOHOA_BOARD_H

#include <stddef.h>

#include "../firmware/config.h"
#include "../firmware/err.h"
#include "gpio.h"

#define BOARD_MAX_LINE 4095
#define BOARD_NO_LINE (-1)

/* The board's outputs, in the order they take in the gpio that
 * board_open_gpio() opens (absent ones skipped). */
typedef enum board_output {
    BOARD_LED_GREEN = 0,
    BOARD_LED_YELLOW,
    BOARD_LED_RED,
    BOARD_BUZZER,
    BOARD_NOUTPUTS
} board_output;

typedef struct board {
    char name[128];
    char gpio_chip[64];           /* "" when the board has no panel lines */
    int button_line;              /* BOARD_NO_LINE: no button */
    int button_active_low;        /* 1 (default): pressed = low */
    int out_line[BOARD_NOUTPUTS]; /* indexed by board_output; BOARD_NO_LINE: absent */
    char console[128];            /* "" when not set */
} board;

/* Reads the board config file at `path` into *b. Errors: unreadable file,
 * malformed INI, missing [board] name, bad or duplicate line numbers,
 * unknown keys (SOHOA_EINPUT, naming the file, line and key). */
int board_load(const char *path, board *b, sohoa_err *err);

/* Same, from text; `name` is used in error messages. */
int board_parse(const char *text, const char *name, board *b, sohoa_err *err);

/* Same, from the [board] section of an already parsed config (so a board
 * may also be described inside sohoa.conf). */
int board_from_config(const config *cfg, board *b, sohoa_err *err);

/* Index of output `o` in the board's gpio, or -1 when the board lacks it. */
int board_output_index(const board *b, board_output o);

/* Number of outputs the board has (LEDs and buzzer present). */
size_t board_noutputs(const board *b);

/* Number of inputs the board has (1 with a button, else 0). */
size_t board_ninputs(const board *b);

/* Opens the board's chip with the button as input 0 (inverted when active
 * low) and the present outputs in board_output order, as gpio_open_chip()
 * does; `consumer` names us in the kernel (e.g. "sohoa"). A board with no
 * lines at all gets a simulated gpio with nothing on it, so the panel code
 * runs the same everywhere. */
gpio *board_open_gpio(const board *b, const char *consumer, sohoa_err *err);

#endif
