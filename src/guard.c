/* guard.c - the mass-logout guard (breaker.logout_min, breaker.logout_share). */
#include "guard.h"

int guard_mass_logout(long logouts, long answers, int min, double share)
{
	if (min <= 0 || logouts < min)
		return 0;
	return (double)logouts > share * (double)answers;
}
