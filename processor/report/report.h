/* report.h: `soakwatch report`: hourly updates, HTML timeline, JSON summary
 * and the soak go/no-go verdict, from soakwatch output events. */
#ifndef SOAKWATCH_REPORT_H
#define SOAKWATCH_REPORT_H

/* argv[0] is "report". Returns the exit status: 0 (GO), 1 (NO-GO with
 * --soak), 2 (unusable arguments or input). */
int report_main(int argc, char **argv);

#endif
