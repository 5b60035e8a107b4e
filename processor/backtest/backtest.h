/* backtest.h: `soakwatch backtest` (docs/semantics.md section 13): one
 * pass over a recording judges every combination of a sweep of rule
 * parameters over one set of windows, and says for each what it would
 * have fired, for how long the flag would have been off, and, against
 * known incidents, how late it would have seen them and how many false
 * alarms it would have raised. */
#ifndef SOAKWATCH_BACKTEST_H
#define SOAKWATCH_BACKTEST_H

/* argv[0] is "backtest". Returns the exit status: 0, 1 when the input
 * cannot be read, 2 for unusable arguments, a bad config or sweep. */
int backtest_main(int argc, char **argv);

#endif
