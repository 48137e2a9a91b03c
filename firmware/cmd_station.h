/* cmd_station.h — `sohoa daemon` and `sohoa press`. */
#ifndef SOHOA_CMD_STATION_H
#define SOHOA_CMD_STATION_H

int cmd_daemon(int argc, char **argv);
int cmd_press(int argc, char **argv);

#endif
