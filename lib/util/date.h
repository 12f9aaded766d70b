/*
 * date: time stamps in the forms mail needs.
 */
#ifndef FML_DATE_H
#define FML_DATE_H

#include <stddef.h>
#include <time.h>

/* "Sat, 21 Nov 2026 10:00:00 +0000" (RFC 5322 date-time, local time). */
void date_rfc5322(time_t t, char *buf, size_t size);

#endif
