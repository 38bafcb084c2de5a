/* notify.c - one webhook POST (Slack- and Discord-compatible) when a run exits non-zero. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "defaults.h"
#include "exitcode.h"
#include "log.h"
#include "notify.h"

char *notify_body(const struct sweep_stats *st, int exit_code, const char *host)
{
	char msg[512];
	char *out = NULL;
	snprintf(msg, sizeof(msg),
	    "refresher on %s exited %d (%s%s): due=%ld refreshed=%ld logged_out=%ld failed=%ld"
	    " superseded=%ld released=%ld retries=%ld duration=%.1fs",
	    host, exit_code, exit_code_meaning(exit_code),
	    st->breaker_open	? "; upstream looks unhealthy, circuit breaker open"
	    : st->mass_logout	? "; mass logout, no session deleted: check the credentials"
				: "",
	    st->due,
	    st->count[OUTCOME_REFRESHED], st->count[OUTCOME_LOGGED_OUT], st->count[OUTCOME_FAILED],
	    st->count[OUTCOME_SUPERSEDED], st->count[OUTCOME_RELEASED], st->retries,
	    (double)st->duration_ms / 1000.0);
	json_object *o = json_object_new_object();
	if (o == NULL)
		return NULL;
	if (json_object_object_add(o, "text", json_object_new_string(msg)) == 0 &&
	    json_object_object_add(o, "content", json_object_new_string(msg)) == 0) {
		const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
		out = s ? strdup(s) : NULL;
	}
	json_object_put(o);
	return out;
}

/* Discards the webhook's answer. */
static size_t discard(char *data, size_t size, size_t nmemb, void *userp)
{
	(void)data;
	(void)userp;
	return size * nmemb;
}

int notify_send(const char *url, const struct sweep_stats *st, int exit_code)
{
	char host[256] = "unknown host";
	int rc = -1;
	struct curl_slist *hdr = NULL;
	CURL *e = NULL;
	if (gethostname(host, sizeof(host) - 1) != 0)
		snprintf(host, sizeof(host), "unknown host");
	host[sizeof(host) - 1] = '\0';
	char *body = notify_body(st, exit_code, host);
	if (body == NULL)
		goto out;
	e = curl_easy_init();
	hdr = curl_slist_append(NULL, "Content-Type: application/json");
	if (e == NULL || hdr == NULL)
		goto out;
	long status = 0;
	int bad = 0;
	bad |= curl_easy_setopt(e, CURLOPT_URL, url) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdr) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_POSTFIELDS, body) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)NOTIFY_TIMEOUT_MS) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard) != CURLE_OK;
	if (bad)
		goto out;
	CURLcode c = curl_easy_perform(e);
	(void)curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
	if (c != CURLE_OK) {
		log_warn("notify", "webhook not delivered: %s", curl_easy_strerror(c));
		goto done;
	}
	if (status < 200 || status > 299) {
		log_warn("notify", "webhook answered HTTP %ld", status);
		goto done;
	}
	log_info("notify", "webhook notified (exit %d)", exit_code);
	rc = 0;
	goto done;
out:
	log_warn("notify", "webhook not sent (out of memory or bad option)");
done:
	curl_slist_free_all(hdr);
	if (e != NULL)
		curl_easy_cleanup(e);
	free(body);
	return rc;
}
