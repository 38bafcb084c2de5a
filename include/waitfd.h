/* waitfd.h - a socket the event loop waits on besides libcurl's (the database's). */
#ifndef REFRESHER_WAITFD_H
#define REFRESHER_WAITFD_H

/* A socket to wait on, and whether for writing (else for reading). */
struct waitfd {
	int fd;
	int want_write;
};

#endif
