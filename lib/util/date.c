/*
 * date: time stamps for mail.  See date.h.
 */
#include "date.h"

void date_rfc5322(time_t t, char *buf, size_t size)
{
	struct tm tm;
	localtime_r(&t, &tm);
	if (!strftime(buf, size, "%a, %d %b %Y %H:%M:%S %z", &tm) && size)
		buf[0] = 0;
}
