/* guard.h - the mass-logout guard: when a run's logout answers mean a mistake, not users. */
#ifndef REFRESHER_GUARD_H
#define REFRESHER_GUARD_H

/*
 * Whether a run whose answers (rows' outcomes: refreshed, logout, failed,
 * superseded) so far number answers, logouts of them, must delete none of its
 * logout rows: logouts >= min and logouts > share x answers. min 0 turns the
 * guard off. Pure.
 */
int guard_mass_logout(long logouts, long answers, int min, double share);

#endif
