/* cmd_register.h — `sohoa register`: the incoming register from the
 * command line (export for printing and spreadsheets). */
#ifndef SOHOA_CMD_REGISTER_H
#define SOHOA_CMD_REGISTER_H

int cmd_register(int argc, char **argv);

#endif
