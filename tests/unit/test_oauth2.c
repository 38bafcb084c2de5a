/* test_oauth2.c - tables for the oauth2 profile: JWT exp, Basic client credentials, judging token endpoint answers. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oauth2.h"
#include "profile.h"
#include "suites.h"

/* Generous: CI runs the suite under sanitizers and valgrind, maybe on a loaded machine. */
#define TCASE_TIMEOUT_S 60

/* A string literal with its length, so that embedded NULs count. */
#define S(lit) lit, sizeof(lit) - 1

/*
 * base64 written here, independently of src/oauth2.c: url selects the
 * base64url alphabet ("-_") over the standard one ("+/"), pad the trailing
 * '='. out holds at least (n + 2) / 3 * 4 + 1 bytes. Returns the length.
 */
static size_t t_b64(const unsigned char *in, size_t n, int url, int pad, char *out)
{
	const char *abc = url ? "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
			      : "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t o = 0;

	for (size_t i = 0; i < n; i += 3) {
		size_t left = n - i;
		unsigned long v = (unsigned long)in[i] << 16;

		if (left > 1)
			v |= (unsigned long)in[i + 1] << 8;
		if (left > 2)
			v |= in[i + 2];
		out[o++] = abc[(v >> 18) & 63];
		out[o++] = abc[(v >> 12) & 63];
		if (left > 1)
			out[o++] = abc[(v >> 6) & 63];
		else if (pad)
			out[o++] = '=';
		if (left > 2)
			out[o++] = abc[v & 63];
		else if (pad)
			out[o++] = '=';
	}
	out[o] = '\0';
	return o;
}

/* --- oauth2_jwt_exp ------------------------------------------------------------------------ */

#define JWT_H "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9" /* {"alg":"RS256","typ":"JWT"} */
#define JWT_SIG "c2lnbmF0dXJl" /* "signature" */

/*
 * A token header.payload.signature around payload (plen bytes) encoded per
 * url/pad, then sig; on the heap, exactly *len bytes and no NUL after them, so
 * that a read past len is caught by valgrind/ASan.
 */
static char *jwt_make(const char *payload, size_t plen, int url, int pad, const char *sig, size_t *len)
{
	char *enc = malloc((plen + 2) / 3 * 4 + 1), *tok;
	size_t elen, hlen = strlen(JWT_H), slen = strlen(sig);

	ck_assert_ptr_nonnull(enc);
	elen = t_b64((const unsigned char *)payload, plen, url, pad, enc);
	*len = hlen + 1 + elen + 1 + slen;
	tok = malloc(*len);
	ck_assert_ptr_nonnull(tok);
	memcpy(tok, JWT_H, hlen);
	tok[hlen] = '.';
	memcpy(tok + hlen + 1, enc, elen);
	tok[hlen + 1 + elen] = '.';
	memcpy(tok + hlen + 2 + elen, sig, slen);
	free(enc);
	return tok;
}

enum jwt_form {
	JWT_URL, /* payload JSON, base64url unpadded, between JWT_H and JWT_SIG */
	JWT_URL_PADDED, /* the same with '=' padding */
	JWT_STD, /* the standard alphabet ('+', '/') with padding: not base64url */
	JWT_RAW, /* text is the whole token, as is */
};

struct jwt_case {
	enum jwt_form form;
	const char *text;
	size_t len;
	long long want;
};

static const struct jwt_case jwt_cases[] = {
	/* usable exp */
	{ JWT_URL, S("{\"exp\":1900000000}"), 1900000000LL },
	{ JWT_URL, S("{\"sub\":\"u1\",\"exp\":1900000000,\"iat\":1899999000}"), 1900000000LL },
	{ JWT_URL, S("{\"exp\":1.9e9}"), 1900000000LL },
	{ JWT_URL, S("{\"exp\":1.9E+9}"), 1900000000LL },
	{ JWT_URL, S("{\"exp\":1900000000.75}"), 1900000000LL }, /* fractional seconds truncated */
	{ JWT_URL, S("{\"exp\":1600000000}"), 1600000000LL }, /* in the past: a fact, not a judgement */
	{ JWT_URL, S("{\"exp\":1}"), 1 },
	{ JWT_URL, S("{\"exp\":99999999999}"), 99999999999LL }, /* the largest below 1e11 */
	{ JWT_URL, S(" {\"exp\" : 1900000000}\n"), 1900000000LL },
	{ JWT_URL, S("{\"exp\":1,\"exp\":1900000000}"), 1900000000LL }, /* duplicate: last wins */
	{ JWT_URL, S("{\"exp\":1900000000,\"q\":\"?\?\?>>>\"}"), 1900000000LL }, /* '_' and '-' in base64url */
	{ JWT_URL, S("{\"exp\":1900000000,\"n\":\"caf\xC3\xA9\"}"), 1900000000LL },
	{ JWT_URL_PADDED, S("{\"exp\":1.9e9}"), 1900000000LL }, /* "==" */
	{ JWT_URL_PADDED, S("{\"sub\":\"u1\",\"exp\":1900000000}"), 1900000000LL }, /* "=" */
	{ JWT_URL_PADDED, S("{\"exp\":1900000000}"), 1900000000LL }, /* no padding needed */
	/* exp present but unusable */
	{ JWT_URL, S("{\"exp\":0}"), -1 },
	{ JWT_URL, S("{\"exp\":0.0}"), -1 },
	{ JWT_URL, S("{\"exp\":-0.0}"), -1 },
	{ JWT_URL, S("{\"exp\":-1}"), -1 },
	{ JWT_URL, S("{\"exp\":-1900000000}"), -1 },
	{ JWT_URL, S("{\"exp\":-1.5e9}"), -1 },
	{ JWT_URL, S("{\"exp\":100000000000}"), -1 }, /* >= 1e11: milliseconds or nonsense */
	{ JWT_URL, S("{\"exp\":1e11}"), -1 },
	{ JWT_URL, S("{\"exp\":1900000000000}"), -1 },
	{ JWT_URL, S("{\"exp\":1e300}"), -1 },
	{ JWT_URL, S("{\"exp\":9223372036854775807}"), -1 },
	{ JWT_URL, S("{\"exp\":-9223372036854775808}"), -1 },
	{ JWT_URL, S("{\"exp\":18446744073709551615}"), -1 },
	{ JWT_URL, S("{\"exp\":\"1900000000\"}"), -1 },
	{ JWT_URL, S("{\"exp\":null}"), -1 },
	{ JWT_URL, S("{\"exp\":true}"), -1 },
	{ JWT_URL, S("{\"exp\":[1900000000]}"), -1 },
	{ JWT_URL, S("{\"exp\":{\"v\":1900000000}}"), -1 },
	/* no exp */
	{ JWT_URL, S("{}"), -1 },
	{ JWT_URL, S("{\"sub\":\"u1\"}"), -1 },
	{ JWT_URL, S("{\"EXP\":1900000000}"), -1 },
	{ JWT_URL, S("{\"sub\":{\"exp\":1900000000}}"), -1 },
	/* JSON but not an object */
	{ JWT_URL, S("[1900000000]"), -1 },
	{ JWT_URL, S("[{\"exp\":1900000000}]"), -1 },
	{ JWT_URL, S("1900000000"), -1 },
	{ JWT_URL, S("\"exp\""), -1 },
	{ JWT_URL, S("null"), -1 },
	/* not JSON */
	{ JWT_URL, S("hello"), -1 },
	{ JWT_URL, S("{exp:1900000000}"), -1 },
	{ JWT_URL, S("{\"exp\":1900000000"), -1 },
	{ JWT_URL, S("{\"exp\":1900000000,}"), -1 },
	{ JWT_URL, S("{\"exp\":1900000000}x"), -1 },
	{ JWT_URL, S("{\"exp\":1900000000}{\"exp\":1}"), -1 },
	{ JWT_URL, S("{\"exp\":1900000000}\0"), -1 },
	{ JWT_URL, S("{\"exp\":19000\0""00000}"), -1 },
	{ JWT_URL, S("\xEF\xBB\xBF{\"exp\":1900000000}"), -1 },
	{ JWT_URL, S("\xFF\xFE{"), -1 },
	{ JWT_URL, S(""), -1 }, /* empty payload segment */
	/* standard base64: '+' and '/' are not base64url */
	{ JWT_STD, S("{\"exp\":1900000000,\"q\":\"?\?\?>>>\"}"), -1 },
	{ JWT_STD, S("{\"exp\":1900000000,\"q\":\"\xFF\xFE\"}"), -1 },
	/* literal tokens (computed with python3 base64.urlsafe_b64encode) */
	{ JWT_RAW, S(JWT_H ".eyJleHAiOjE5MDAwMDAwMDB9." JWT_SIG), 1900000000LL },
	{ JWT_RAW, S(JWT_H ".eyJleHAiOjEuOWU5fQ==." JWT_SIG), 1900000000LL },
	{ JWT_RAW, S(JWT_H ".eyJleHAiOjEuOWU5fQ." JWT_SIG), 1900000000LL },
	{ JWT_RAW, S(JWT_H ".eyJleHAiOjE5MDAwMDAwMDB9."), 1900000000LL }, /* unsecured JWT: empty signature */
	/* not three segments */
	{ JWT_RAW, S("eyJleHAiOjE5MDAwMDAwMDB9"), -1 },
	{ JWT_RAW, S(JWT_H ".eyJleHAiOjE5MDAwMDAwMDB9"), -1 },
	{ JWT_RAW, S("eyJleHAiOjE5MDAwMDAwMDB9." JWT_SIG), -1 },
	{ JWT_RAW, S(JWT_H ".eyJleHAiOjE5MDAwMDAwMDB9." JWT_SIG ".x"), -1 },
	{ JWT_RAW, S(JWT_H ".eyJleHAiOjE5MDAwMDAwMDB9." JWT_SIG "."), -1 },
	{ JWT_RAW, S(JWT_H "..eyJleHAiOjE5MDAwMDAwMDB9." JWT_SIG), -1 },
	{ JWT_RAW, S("."), -1 },
	{ JWT_RAW, S(".."), -1 },
	{ JWT_RAW, S("..."), -1 },
	{ JWT_RAW, S("x"), -1 },
	/* payload not base64url */
	{ JWT_RAW, S(JWT_H ".eyJleHAiOjE5MDAwMDAwMDB9!." JWT_SIG), -1 },
	{ JWT_RAW, S(JWT_H ".eyJleHAi!OjE5MDAwMDAwMDB9." JWT_SIG), -1 },
	{ JWT_RAW, S(JWT_H ".eyJleHAi+OjE5MDAwMDAwMDB9." JWT_SIG), -1 },
	{ JWT_RAW, S(JWT_H ".eyJleHAi/OjE5MDAwMDAwMDB9." JWT_SIG), -1 },
	{ JWT_RAW, S(JWT_H ".eyJleHAiOj E5MDAwMDAwMDB9." JWT_SIG), -1 },
	{ JWT_RAW, S(JWT_H ".eyJleHAiOjE5MDAw\nMDAwMDB9." JWT_SIG), -1 },
	{ JWT_RAW, S(JWT_H ".eyJleHAi=OjE5MDAwMDAwMDB9." JWT_SIG), -1 }, /* '=' inside */
	{ JWT_RAW, S(JWT_H ".eyJleHAiOjE5MDAwMDAwMDB9A." JWT_SIG), -1 }, /* length % 4 == 1 */
	{ JWT_RAW, S(JWT_H ".A." JWT_SIG), -1 },
	{ JWT_RAW, S(JWT_H ".====." JWT_SIG), -1 },
	{ JWT_RAW, S(JWT_H ".eyJleHAiOjE5MDAwMDAwMDB9\xC3\xA9." JWT_SIG), -1 },
	{ JWT_RAW, S(JWT_H ".eyJleHAiOjE5MDAwMDAwMDB9AA." JWT_SIG), -1 }, /* decodes to ...}\0 */
	/* embedded NULs within len */
	{ JWT_RAW, S(JWT_H ".eyJleHAiOjE5\0MDAwMDAwMDB9." JWT_SIG), -1 },
	{ JWT_RAW, S(JWT_H ".eyJleHAiOjE5MDAwMDAwMDB9\0." JWT_SIG), -1 },
	{ JWT_RAW, S(JWT_H ".\0." JWT_SIG), -1 },
	{ JWT_RAW, S(JWT_H ".eyJleHAiOjE5MDAwMDAwMDB9." JWT_SIG "\0.x"), -1 }, /* 4 segments past a NUL */
	{ JWT_RAW, S(JWT_H "\0.eyJleHAiOjE5MDAwMDAwMDB9"), -1 }, /* 2 segments */
	{ JWT_RAW, S("\0"), -1 },
	{ JWT_RAW, S(""), -1 },
};

START_TEST(test_jwt_table)
{
	const struct jwt_case *c = &jwt_cases[_i];
	size_t len;
	char *tok;

	if (c->form == JWT_RAW) {
		len = c->len;
		tok = malloc(len > 0 ? len : 1);
		ck_assert_ptr_nonnull(tok);
		memcpy(tok, c->text, len);
	} else
		tok = jwt_make(c->text, c->len, c->form != JWT_STD, c->form != JWT_URL, JWT_SIG, &len);
	long long got = oauth2_jwt_exp(tok, len);
	ck_assert_msg(got == c->want, "case %d: exp %lld, want %lld", _i, got, c->want);
	free(tok);
}
END_TEST

/* The test's own encoder agrees with python3's base64.urlsafe_b64encode. */
START_TEST(test_jwt_helper)
{
	static const char Q3[] = "{\"exp\":1900000000,\"q\":\"?\?\?>>>\"}";
	char out[64];

	t_b64((const unsigned char *)"{\"exp\":1900000000}", 18, 1, 0, out);
	ck_assert_str_eq(out, "eyJleHAiOjE5MDAwMDAwMDB9");
	t_b64((const unsigned char *)"{\"exp\":1.9e9}", 13, 1, 1, out);
	ck_assert_str_eq(out, "eyJleHAiOjEuOWU5fQ==");
	t_b64((const unsigned char *)Q3, sizeof Q3 - 1, 1, 1, out);
	ck_assert_str_eq(out, "eyJleHAiOjE5MDAwMDAwMDAsInEiOiI_Pz8-Pj4ifQ==");
	t_b64((const unsigned char *)Q3, sizeof Q3 - 1, 0, 1, out);
	ck_assert_str_eq(out, "eyJleHAiOjE5MDAwMDAwMDAsInEiOiI/Pz8+Pj4ifQ==");
}
END_TEST

START_TEST(test_jwt_null)
{
	ck_assert_int_eq(oauth2_jwt_exp(NULL, 0), -1);
	ck_assert_int_eq(oauth2_jwt_exp(NULL, 40), -1);
	ck_assert_int_eq(oauth2_jwt_exp("", 0), -1);
	/* len 0 over a valid token: nothing is read */
	ck_assert_int_eq(oauth2_jwt_exp(JWT_H ".eyJleHAiOjE5MDAwMDAwMDB9." JWT_SIG, 0), -1);
}
END_TEST

/* OAUTH2_JWT_MAX bytes is read; one more is not; far more is not. */
START_TEST(test_jwt_size)
{
	static const char head[] = "{\"exp\":1900000000,\"pad\":\"";
	size_t n = 12000, len, hlen = strlen(JWT_H), total[] = { OAUTH2_JWT_MAX, OAUTH2_JWT_MAX + 1 };
	char *payload = malloc(n), *tok;

	ck_assert_ptr_nonnull(payload);
	memcpy(payload, head, strlen(head));
	memset(payload + strlen(head), 'a', n - strlen(head) - 2);
	memcpy(payload + n - 2, "\"}", 2);
	for (size_t k = 0; k < 2; k++) {
		/* The signature fills the token up to the exact size wanted. */
		size_t elen = (n / 3) * 4 + (n % 3 ? n % 3 + 1 : 0), slen = total[k] - hlen - 2 - elen;
		char *sig = malloc(slen + 1);

		ck_assert_ptr_nonnull(sig);
		memset(sig, 'S', slen);
		sig[slen] = '\0';
		tok = jwt_make(payload, n, 1, 0, sig, &len);
		ck_assert_uint_eq(len, total[k]);
		ck_assert_int_eq(oauth2_jwt_exp(tok, len), k == 0 ? 1900000000LL : -1);
		free(tok);
		free(sig);
	}
	free(payload);

	n = 100000;
	payload = malloc(n);
	ck_assert_ptr_nonnull(payload);
	memcpy(payload, head, strlen(head));
	memset(payload + strlen(head), 'a', n - strlen(head) - 2);
	memcpy(payload + n - 2, "\"}", 2);
	tok = jwt_make(payload, n, 1, 0, JWT_SIG, &len);
	ck_assert_int_eq(oauth2_jwt_exp(tok, len), -1);
	free(tok);
	free(payload);
}
END_TEST

/* Deep nesting in the payload: -1, no crash; moderate nesting is fine. */
START_TEST(test_jwt_deep)
{
	size_t depth[] = { 10000, 5000 }, o, len;
	char *payload = malloc(2 * 10000 + 64), *tok;

	ck_assert_ptr_nonnull(payload);
	/* [[[...]]] 10000 deep is over OAUTH2_JWT_MAX once encoded; 5000 deep is not. */
	for (size_t k = 0; k < 2; k++) {
		o = 0;
		for (size_t i = 0; i < depth[k]; i++)
			payload[o++] = '[';
		for (size_t i = 0; i < depth[k]; i++)
			payload[o++] = ']';
		tok = jwt_make(payload, o, 1, 0, JWT_SIG, &len);
		if (k == 1)
			ck_assert_uint_le(len, OAUTH2_JWT_MAX);
		ck_assert_int_eq(oauth2_jwt_exp(tok, len), -1);
		free(tok);
	}
	/* 10000 unclosed '[' fits under OAUTH2_JWT_MAX. */
	memset(payload, '[', 10000);
	tok = jwt_make(payload, 10000, 1, 0, JWT_SIG, &len);
	ck_assert_uint_le(len, OAUTH2_JWT_MAX);
	ck_assert_int_eq(oauth2_jwt_exp(tok, len), -1);
	free(tok);
	/* {"a":{"a":...}} 2000 deep */
	o = 0;
	for (size_t i = 0; i < 2000; i++) {
		memcpy(payload + o, "{\"a\":", 5);
		o += 5;
	}
	payload[o++] = '1';
	memset(payload + o, '}', 2000);
	o += 2000;
	tok = jwt_make(payload, o, 1, 0, JWT_SIG, &len);
	ck_assert_int_eq(oauth2_jwt_exp(tok, len), -1);
	free(tok);
	/* exp next to 100-deep nesting: over json-c's depth cap, the payload is not read */
	o = (size_t)sprintf(payload, "{\"exp\":1900000000,\"x\":");
	memset(payload + o, '[', 100);
	memset(payload + o + 100, ']', 100);
	o += 200;
	payload[o++] = '}';
	tok = jwt_make(payload, o, 1, 0, JWT_SIG, &len);
	ck_assert_int_eq(oauth2_jwt_exp(tok, len), -1);
	free(tok);
	/* exp next to 20-deep nesting: read */
	o = (size_t)sprintf(payload, "{\"exp\":1900000000,\"x\":");
	memset(payload + o, '[', 20);
	memset(payload + o + 20, ']', 20);
	o += 40;
	payload[o++] = '}';
	tok = jwt_make(payload, o, 1, 0, JWT_SIG, &len);
	ck_assert_int_eq(oauth2_jwt_exp(tok, len), 1900000000LL);
	free(tok);
	free(payload);
}
END_TEST

/* Random tokens made of base64url, '.', '=' and any byte: no crash, -1 or a plausible exp. */
START_TEST(test_jwt_random)
{
	static const char alpha[] = "eyJ0123456789abcdefABCDEF-_.=";
	uint64_t x = 0x9E3779B97F4A7C15ULL;

	for (int round = 0; round < 2000; round++) {
		size_t len = (size_t)(round * 13) % 300;
		char *tok = malloc(len > 0 ? len : 1);

		ck_assert_ptr_nonnull(tok);
		for (size_t i = 0; i < len; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			tok[i] = (x & 0x300) ? alpha[(x >> 16) % (sizeof alpha - 1)] : (char)(x & 0xFF);
		}
		long long got = oauth2_jwt_exp(tok, len);
		ck_assert(got == -1 || (got > 0 && got < 100000000000LL));
		free(tok);
	}
}
END_TEST

/* --- oauth2_basic_auth ----------------------------------------------------------------------- */

/*
 * Expected values computed outside the code under test: the pair with
 * python3 urllib.parse.quote_plus(s, safe="*") plus '~' as %7E (the form rule
 * of src/form.c: ALPHA DIGIT "-._*" kept, space '+', else %XX), then the
 * base64 command line tool.
 */
struct basic_case {
	const char *id, *secret;
	const char *want;
};

static const struct basic_case basic_cases[] = {
	{ "client", "secret", "Basic Y2xpZW50OnNlY3JldA==" },
	{ "s6BhdRkqt3", "gX1fBat3bV", "Basic czZCaGRSa3F0MzpnWDFmQmF0M2JW" }, /* RFC 6749 2.3.1 */
	{ "my client", "p:ss%w&rd", "Basic bXkrY2xpZW50OnAlM0FzcyUyNXclMjZyZA==" }, /* my+client:p%3Ass%25w%26rd */
	{ "a~b!", "x*y.z_-", "Basic YSU3RWIlMjE6eCp5LnpfLQ==" }, /* a%7Eb%21:x*y.z_- */
	{ "caf\xC3\xA9", "\xE2\x82\xAC", "Basic Y2FmJUMzJUE5OiVFMiU4MiVBQw==" }, /* caf%C3%A9:%E2%82%AC */
	{ "client", "", "Basic Y2xpZW50Og==" }, /* client: */
	{ "", "secret", "Basic OnNlY3JldA==" }, /* :secret */
	{ "", "", "Basic Og==" }, /* : */
	{ "ab", "cde", "Basic YWI6Y2Rl" }, /* 6 bytes: no padding */
	{ "ab", "cd", "Basic YWI6Y2Q=" }, /* 5 bytes: one '=' */
	{ "id+/=", "a b\n\t\"'", "Basic aWQlMkIlMkYlM0Q6YStiJTBBJTA5JTIyJTI3" }, /* id%2B%2F%3D:a+b%0A%09%22%27 */
	{ "user@example.com", "::@#?[]",
	    "Basic dXNlciU0MGV4YW1wbGUuY29tOiUzQSUzQSU0MCUyMyUzRiU1QiU1RA==" },
	{ "\x01\x7F", "\xFF", "Basic JTAxJTdGOiVGRg==" }, /* %01%7F:%FF */
	{ "a&b=c", "d;e,f", "Basic YSUyNmIlM0RjOmQlM0JlJTJDZg==" }, /* a%26b%3Dc:d%3Be%2Cf */
};

START_TEST(test_basic_table)
{
	const struct basic_case *c = &basic_cases[_i];
	char *got = oauth2_basic_auth(c->id, c->secret);

	ck_assert_ptr_nonnull(got);
	ck_assert_msg(strcmp(got, c->want) == 0, "case %d: '%s', want '%s'", _i, got, c->want);
	free(got);
}
END_TEST

/* NULL parts are taken as empty; a long secret of escaped bytes is encoded in full. */
START_TEST(test_basic_edges)
{
	char *got = oauth2_basic_auth(NULL, NULL), *secret, *pair, *want;
	size_t n = 3000, plen;

	ck_assert_ptr_nonnull(got);
	ck_assert_str_eq(got, "Basic Og==");
	free(got);

	secret = malloc(n + 1);
	pair = malloc(3 + 3 * n + 1);
	ck_assert_ptr_nonnull(secret);
	ck_assert_ptr_nonnull(pair);
	memset(secret, '~', n);
	secret[n] = '\0';
	memcpy(pair, "id:", 3);
	for (size_t i = 0; i < n; i++)
		memcpy(pair + 3 + 3 * i, "%7E", 3);
	plen = 3 + 3 * n;
	want = malloc(6 + (plen + 2) / 3 * 4 + 1);
	ck_assert_ptr_nonnull(want);
	memcpy(want, "Basic ", 6);
	t_b64((const unsigned char *)pair, plen, 0, 1, want + 6);
	got = oauth2_basic_auth("id", secret);
	ck_assert_ptr_nonnull(got);
	ck_assert_str_eq(got, want);
	free(got);
	free(want);
	free(pair);
	free(secret);
}
END_TEST

/* --- oauth2_judge_answer --------------------------------------------------------------------- */

#define NOW 1700000000LL
#define OLD_RT "rt-OLD-0123456789"
#define NEW_RT "rt-NEW-abcdef"
#define ACC "at-ACCESS-xyz"
/* {"sub":"u1","exp":1900000000} */
#define JWT_FUTURE JWT_H ".eyJzdWIiOiJ1MSIsImV4cCI6MTkwMDAwMDAwMH0." JWT_SIG
/* {"exp":1600000000} */
#define JWT_PAST JWT_H ".eyJleHAiOjE2MDAwMDAwMDB9." JWT_SIG
/* {"sub":"u1"} */
#define JWT_NOEXP JWT_H ".eyJzdWIiOiJ1MSJ9." JWT_SIG
/* {"iss":"https://auth.example","exp":1700003600} */
#define JWT_HOUR JWT_H ".eyJpc3MiOiJodHRwczovL2F1dGguZXhhbXBsZSIsImV4cCI6MTcwMDAwMzYwMH0." JWT_SIG

#define T128 "TTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTTT"
#define T512 T128 T128 T128 T128
#define TOKEN4096 T512 T512 T512 T512 T512 T512 T512 T512
#define TOKEN5000 TOKEN4096 T512 T128 T128 T128 "TTTTTTTT"

/* Every string a reason must never contain. */
static const char *const secrets[] = {
	OLD_RT, NEW_RT, ACC, JWT_FUTURE, JWT_PAST, JWT_NOEXP, JWT_HOUR, "rt NEW", "at ACCESS",
};

struct judge_case {
	long status;
	const char *body;
	size_t len;
	int too_big, need_expiry;
	enum answer_kind kind;
	int stop_run;
	const char *new_token, *access_token; /* REFRESHED; NULL otherwise */
	long long expires_at; /* REFRESHED; 0 otherwise */
	const char *reason; /* substring */
};

#define R ANSWER_REFRESHED
#define L ANSWER_LOGOUT
#define TR ANSWER_TRANSIENT
#define F ANSWER_FAILED
#define AT(tok) "{\"access_token\":\"" tok "\""

static const struct judge_case judge_cases[] = {
	/* refreshed: rotation */
	{ 200, S(AT(ACC) ",\"token_type\":\"Bearer\",\"expires_in\":3600,\"refresh_token\":\"" NEW_RT "\"}"), 0, 1,
	    R, 0, NEW_RT, ACC, NOW + 3600, "refreshed" },
	{ 200, S(AT(ACC) ",\"expires_in\":3600,\"refresh_token\":\"" NEW_RT "\"}"), 0, 0,
	    R, 0, NEW_RT, ACC, NOW + 3600, "refreshed" },
	{ 200, S("{\"refresh_token\":\"" NEW_RT "\",\"expires_in\":3600," "\"access_token\":\"" ACC "\"}"), 0, 1,
	    R, 0, NEW_RT, ACC, NOW + 3600, "refreshed" },
	{ 200, S(AT(ACC) ",\"expires_in\":3600,\"refresh_token\":\"" OLD_RT "\"}"), 0, 1,
	    R, 0, OLD_RT, ACC, NOW + 3600, "refreshed" },
	{ 201, S(AT(ACC) ",\"expires_in\":3600}"), 0, 1, R, 0, OLD_RT, ACC, NOW + 3600, "refreshed" },
	{ 299, S(AT(ACC) ",\"expires_in\":3600}"), 0, 1, R, 0, OLD_RT, ACC, NOW + 3600, "refreshed" },
	{ 200, S(" \r\n\t" AT(ACC) " , \"expires_in\" : 3600 } \r\n"), 0, 1,
	    R, 0, OLD_RT, ACC, NOW + 3600, "refreshed" },
	{ 200, S(AT(ACC) ",\"expires_in\":3600,\"scope\":\"a b\",\"x\":{\"y\":[1,null]}}"), 0, 1,
	    R, 0, OLD_RT, ACC, NOW + 3600, "refreshed" },
	{ 200, S(AT("a.b-c_d~e+f/g=!") ",\"expires_in\":3600}"), 0, 1,
	    R, 0, OLD_RT, "a.b-c_d~e+f/g=!", NOW + 3600, "refreshed" },
	{ 200, S(AT("a\\/b") ",\"expires_in\":3600}"), 0, 1, R, 0, OLD_RT, "a/b", NOW + 3600, "refreshed" },
	{ 200, S(AT(TOKEN4096) ",\"expires_in\":3600}"), 0, 1, R, 0, OLD_RT, TOKEN4096, NOW + 3600, "refreshed" },
	/* refreshed: no rotation */
	{ 200, S(AT(ACC) ",\"expires_in\":3600}"), 0, 1, R, 0, OLD_RT, ACC, NOW + 3600, "refreshed" },
	{ 200, S(AT(ACC) ",\"expires_in\":3600,\"refresh_token\":null}"), 0, 1,
	    R, 0, OLD_RT, ACC, NOW + 3600, "refreshed" },
	/* expiry: expires_in first, else the JWT exp */
	{ 200, S(AT(JWT_FUTURE) ",\"refresh_token\":\"" NEW_RT "\"}"), 0, 1,
	    R, 0, NEW_RT, JWT_FUTURE, 1900000000LL, "refreshed" },
	{ 200, S(AT(JWT_HOUR) "}"), 0, 1, R, 0, OLD_RT, JWT_HOUR, 1700003600LL, "refreshed" },
	{ 200, S(AT(JWT_FUTURE) ",\"expires_in\":60}"), 0, 1, R, 0, OLD_RT, JWT_FUTURE, NOW + 60, "refreshed" },
	{ 200, S(AT(JWT_PAST) "}"), 0, 1, R, 0, OLD_RT, JWT_PAST, 1600000000LL, "refreshed" },
	{ 200, S(AT(ACC) ",\"expires_in\":1}"), 0, 1, R, 0, OLD_RT, ACC, NOW + 1, "refreshed" },
	{ 200, S(AT(ACC) ",\"expires_in\":3600.9}"), 0, 1, R, 0, OLD_RT, ACC, NOW + 3600, "refreshed" },
	{ 200, S(AT(ACC) ",\"expires_in\":3.6e3}"), 0, 1, R, 0, OLD_RT, ACC, NOW + 3600, "refreshed" },
	{ 200, S(AT(ACC) ",\"expires_in\":31622400}"), 0, 1, R, 0, OLD_RT, ACC, NOW + 31622400, "refreshed" },
	/* no expiry: failed when the table stores one, else refreshed with 0 */
	{ 200, S(AT(ACC) "}"), 0, 1, F, 0, NULL, NULL, 0, "no expiry" },
	{ 200, S(AT(ACC) "}"), 0, 0, R, 0, OLD_RT, ACC, 0, "refreshed" },
	{ 200, S(AT(ACC) ",\"refresh_token\":\"" NEW_RT "\"}"), 0, 1, F, 0, NULL, NULL, 0, "no expiry" },
	{ 200, S(AT(ACC) ",\"refresh_token\":\"" NEW_RT "\"}"), 0, 0, R, 0, NEW_RT, ACC, 0, "refreshed" },
	{ 200, S(AT(JWT_NOEXP) "}"), 0, 1, F, 0, NULL, NULL, 0, "no expiry" },
	{ 200, S(AT(JWT_NOEXP) "}"), 0, 0, R, 0, OLD_RT, JWT_NOEXP, 0, "refreshed" },
	/* unusable expires_in: ignored */
	{ 200, S(AT(ACC) ",\"expires_in\":\"3600\"}"), 0, 1, F, 0, NULL, NULL, 0, "no expiry" },
	{ 200, S(AT(ACC) ",\"expires_in\":\"3600\"}"), 0, 0, R, 0, OLD_RT, ACC, 0, "refreshed" },
	{ 200, S(AT(JWT_FUTURE) ",\"expires_in\":\"3600\"}"), 0, 1,
	    R, 0, OLD_RT, JWT_FUTURE, 1900000000LL, "refreshed" },
	{ 200, S(AT(ACC) ",\"expires_in\":0}"), 0, 1, F, 0, NULL, NULL, 0, "no expiry" },
	{ 200, S(AT(ACC) ",\"expires_in\":0}"), 0, 0, R, 0, OLD_RT, ACC, 0, "refreshed" },
	{ 200, S(AT(JWT_FUTURE) ",\"expires_in\":0}"), 0, 1,
	    R, 0, OLD_RT, JWT_FUTURE, 1900000000LL, "refreshed" },
	{ 200, S(AT(ACC) ",\"expires_in\":-3600}"), 0, 1, F, 0, NULL, NULL, 0, "no expiry" },
	{ 200, S(AT(ACC) ",\"expires_in\":-3600}"), 0, 0, R, 0, OLD_RT, ACC, 0, "refreshed" },
	{ 200, S(AT(ACC) ",\"expires_in\":31622401}"), 0, 1, F, 0, NULL, NULL, 0, "no expiry" },
	{ 200, S(AT(ACC) ",\"expires_in\":1e300}"), 0, 1, F, 0, NULL, NULL, 0, "no expiry" },
	{ 200, S(AT(ACC) ",\"expires_in\":9223372036854775807}"), 0, 1, F, 0, NULL, NULL, 0, "no expiry" },
	{ 200, S(AT(ACC) ",\"expires_in\":18446744073709551615}"), 0, 1, F, 0, NULL, NULL, 0, "no expiry" },
	{ 200, S(AT(JWT_FUTURE) ",\"expires_in\":1e300}"), 0, 1,
	    R, 0, OLD_RT, JWT_FUTURE, 1900000000LL, "refreshed" },
	{ 200, S(AT(ACC) ",\"expires_in\":null}"), 0, 1, F, 0, NULL, NULL, 0, "no expiry" },
	{ 200, S(AT(ACC) ",\"expires_in\":true}"), 0, 1, F, 0, NULL, NULL, 0, "no expiry" },
	{ 200, S(AT(ACC) ",\"expires_in\":[3600]}"), 0, 1, F, 0, NULL, NULL, 0, "no expiry" },
	/* logout: 400 invalid_grant, exactly */
	{ 400, S("{\"error\":\"invalid_grant\"}"), 0, 1, L, 0, NULL, NULL, 0, "invalid_grant" },
	{ 400, S("{\"error\":\"invalid_grant\"}"), 0, 0, L, 0, NULL, NULL, 0, "invalid_grant" },
	{ 400, S("{\"error\":\"invalid_grant\",\"error_description\":\"Token is not active\"}"), 0, 1,
	    L, 0, NULL, NULL, 0, "invalid_grant" },
	{ 400, S(" {\"error_description\":\"x\",\"error\":\"invalid_grant\"}\n"), 0, 1,
	    L, 0, NULL, NULL, 0, "invalid_grant" },
	{ 400, S("{\"error\":\"invalid_request\",\"error\":\"invalid_grant\"}"), 0, 1,
	    L, 0, NULL, NULL, 0, "invalid_grant" },
	/* not a logout */
	{ 400, S("{\"error\":\"invalid_grant\",\"error\":\"invalid_request\"}"), 0, 1,
	    F, 1, NULL, NULL, 0, "HTTP 400 invalid_request" },
	{ 400, S("{\"error\":\"INVALID_GRANT\"}"), 0, 1, F, 0, NULL, NULL, 0, "HTTP 400" },
	{ 400, S("{\"error\":\"invalid_grant \"}"), 0, 1, F, 0, NULL, NULL, 0, "HTTP 400" },
	{ 400, S("{\"error\":\"invalid_grant\\u0000x\"}"), 0, 1, F, 0, NULL, NULL, 0, "HTTP 400" },
	{ 400, S("{\"error\":[\"invalid_grant\"]}"), 0, 1, F, 0, NULL, NULL, 0, "HTTP 400" },
	{ 400, S("{\"error\":{\"code\":\"invalid_grant\"}}"), 0, 1, F, 0, NULL, NULL, 0, "HTTP 400" },
	{ 400, S("{\"errors\":\"invalid_grant\"}"), 0, 1, F, 0, NULL, NULL, 0, "HTTP 400" },
	{ 400, S("[{\"error\":\"invalid_grant\"}]"), 0, 1, F, 0, NULL, NULL, 0, "HTTP 400" },
	{ 400, S("invalid_grant"), 0, 1, F, 0, NULL, NULL, 0, "HTTP 400" },
	{ 400, S("{\"error\":\"invalid_grant\"} x"), 0, 1, F, 0, NULL, NULL, 0, "HTTP 400" },
	{ 400, S("{\"error\":\"invalid_grant\"}\0"), 0, 1, F, 0, NULL, NULL, 0, "HTTP 400" },
	{ 400, S("{\"error\":\"invalid_grant\"}\0{\"x\":1}"), 0, 1, F, 0, NULL, NULL, 0, "HTTP 400" },
	{ 403, S("{\"error\":\"invalid_grant\"}"), 0, 1, F, 0, NULL, NULL, 0, "HTTP 403" },
	{ 200, S("{\"error\":\"invalid_grant\"}"), 0, 1, F, 0, NULL, NULL, 0, "no access_token" },
	/* the error codes that are the same for every row stop the run, whatever the status */
	{ 400, S("{\"error\":\"invalid_request\"}"), 0, 1, F, 1, NULL, NULL, 0,
	    "the token endpoint refused the request as malformed (HTTP 400 invalid_request): check upstream.form and client_auth" },
	{ 400, S("{\"error\":\"unauthorized_client\"}"), 0, 1, F, 1, NULL, NULL, 0,
	    "the token endpoint does not let this client use the refresh-token grant (HTTP 400 unauthorized_client)" },
	{ 400, S("{\"error\":\"invalid_scope\"}"), 0, 1, F, 1, NULL, NULL, 0,
	    "refused the requested scope (HTTP 400 invalid_scope): check upstream.form" },
	{ 400, S("{\"error\":\"unsupported_grant_type\"}"), 0, 1, F, 1, NULL, NULL, 0,
	    "does not support the refresh-token grant (HTTP 400 unsupported_grant_type): check upstream.url" },
	{ 403, S("{\"error\":\"unauthorized_client\"}"), 0, 1, F, 1, NULL, NULL, 0, "HTTP 403 unauthorized_client" },
	{ 200, S("{\"error\":\"invalid_scope\"}"), 0, 1, F, 1, NULL, NULL, 0, "HTTP 200 invalid_scope" },
	{ 503, S("{\"error\":\"invalid_request\"}"), 0, 1, F, 1, NULL, NULL, 0, "HTTP 503 invalid_request" },
	/* near misses are about the row: they fail it */
	{ 400, S("{\"error\":\"Invalid_Scope\"}"), 0, 1, F, 0, NULL, NULL, 0, "HTTP 400" },
	{ 400, S("{\"error\":\"invalid_request \"}"), 0, 1, F, 0, NULL, NULL, 0, "HTTP 400" },
	{ 400, S("{\"error\":\"invalid_scope\\u0000\"}"), 0, 1, F, 0, NULL, NULL, 0, "HTTP 400" },
	{ 400, S("{\"error\":[\"unauthorized_client\"]}"), 0, 1, F, 0, NULL, NULL, 0, "HTTP 400" },
	{ 400, S("{\"error\":\"a\\nb\\u0001\\\"\xC3\xA9\"}"), 0, 1, F, 0, NULL, NULL, 0, "HTTP 400" },
	{ 400, S("{\"error\":\"" T128 "\"}"), 0, 1, F, 0, NULL, NULL, 0, "HTTP 400" },
	{ 400, S(""), 0, 1, F, 0, NULL, NULL, 0, "HTTP 400" },
	/* the server echoes the row's refresh token: never into a reason */
	{ 400, S("{\"error\":\"" OLD_RT "\"}"), 0, 1, F, 0, NULL, NULL, 0, "HTTP 400" },
	{ 401, S("{\"error\":\"" OLD_RT "\"}"), 0, 1, F, 1, NULL, NULL, 0, "the token endpoint refused the client credentials (HTTP 401): check upstream.client_id" },
	/* client credentials refused: the run stops */
	{ 401, S(""), 0, 1, F, 1, NULL, NULL, 0, "refused the client credentials (HTTP 401): check" },
	{ 401, S("<html>Unauthorized</html>"), 0, 1, F, 1, NULL, NULL, 0, "HTTP 401" },
	{ 401, S("\0\xFF"), 0, 0, F, 1, NULL, NULL, 0, "HTTP 401" },
	{ 401, S("{\"error\":\"invalid_client\"}"), 0, 1, F, 1, NULL, NULL, 0, "HTTP 401 invalid_client" },
	{ 401, S("{\"error\":\"invalid_grant\"}"), 0, 1, F, 1, NULL, NULL, 0, "HTTP 401" },
	{ 401, S(AT(ACC) ",\"expires_in\":3600}"), 0, 1, F, 1, NULL, NULL, 0, "HTTP 401" },
	{ 400, S("{\"error\":\"invalid_client\"}"), 0, 1, F, 1, NULL, NULL, 0, "HTTP 400 invalid_client" },
	{ 400, S("{\"error\":\"invalid_client\",\"error_description\":\"bad secret\"}"), 0, 0,
	    F, 1, NULL, NULL, 0, "invalid_client" },
	{ 403, S("{\"error\":\"invalid_client\"}"), 0, 1, F, 1, NULL, NULL, 0, "HTTP 403 invalid_client" },
	{ 200, S("{\"error\":\"invalid_client\"}"), 0, 1, F, 1, NULL, NULL, 0, "HTTP 200 invalid_client" },
	{ 200, S(AT(ACC) ",\"expires_in\":3600,\"error\":\"invalid_client\"}"), 0, 1,
	    F, 1, NULL, NULL, 0, "invalid_client" },
	{ 503, S("{\"error\":\"invalid_client\"}"), 0, 1, F, 1, NULL, NULL, 0, "invalid_client" },
	{ 400, S("{\"error\":\"Invalid_Client\"}"), 0, 1, F, 0, NULL, NULL, 0, "HTTP 400" },
	{ 400, S("{\"error\":\"invalid_client\"} x"), 0, 1, F, 0, NULL, NULL, 0, "HTTP 400" },
	/* transient, whatever the body */
	{ 408, S(""), 0, 1, TR, 0, NULL, NULL, 0, "HTTP 408" },
	{ 429, S(AT(ACC) ",\"expires_in\":3600}"), 0, 1, TR, 0, NULL, NULL, 0, "HTTP 429" },
	{ 500, S("<html>oops</html>"), 0, 1, TR, 0, NULL, NULL, 0, "HTTP 500" },
	{ 502, S("{\"error\":\"invalid_grant\"}"), 0, 1, TR, 0, NULL, NULL, 0, "HTTP 502" },
	{ 503, S(""), 0, 0, TR, 0, NULL, NULL, 0, "HTTP 503" },
	{ 504, S("\0"), 0, 1, TR, 0, NULL, NULL, 0, "HTTP 504" },
	/* other statuses fail */
	{ 302, S(""), 0, 1, F, 0, NULL, NULL, 0, "HTTP 302" },
	{ 301, S(AT(ACC) ",\"expires_in\":3600}"), 0, 1, F, 0, NULL, NULL, 0, "HTTP 301" },
	{ 404, S("not found"), 0, 1, F, 0, NULL, NULL, 0, "HTTP 404" },
	{ 403, S(""), 0, 1, F, 0, NULL, NULL, 0, "HTTP 403" },
	{ 501, S(""), 0, 1, F, 0, NULL, NULL, 0, "HTTP 501" },
	{ 505, S(""), 0, 1, F, 0, NULL, NULL, 0, "HTTP 505" },
	{ 199, S(AT(ACC) ",\"expires_in\":3600}"), 0, 1, F, 0, NULL, NULL, 0, "HTTP 199" },
	{ 300, S(AT(ACC) ",\"expires_in\":3600}"), 0, 1, F, 0, NULL, NULL, 0, "HTTP 300" },
	{ 0, S(""), 0, 1, F, 0, NULL, NULL, 0, "HTTP 0" },
	{ -1, S(""), 0, 1, F, 0, NULL, NULL, 0, "HTTP -1" },
	{ 999999, S(""), 0, 1, F, 0, NULL, NULL, 0, "HTTP 999999" },
	/* 2xx that is not a JSON object */
	{ 200, S(""), 0, 1, F, 0, NULL, NULL, 0, "not a JSON object" },
	{ 204, S(""), 0, 0, F, 0, NULL, NULL, 0, "not a JSON object" },
	{ 200, S("   "), 0, 1, F, 0, NULL, NULL, 0, "not a JSON object" },
	{ 200, S("<html><body>Maintenance</body></html>"), 0, 1, F, 0, NULL, NULL, 0, "not a JSON object" },
	{ 200, S("[]"), 0, 1, F, 0, NULL, NULL, 0, "not a JSON object" },
	{ 200, S("[" AT(ACC) ",\"expires_in\":3600}]"), 0, 1, F, 0, NULL, NULL, 0, "not a JSON object" },
	{ 200, S("\"" ACC "\""), 0, 0, F, 0, NULL, NULL, 0, "not a JSON object" },
	{ 200, S("3600"), 0, 0, F, 0, NULL, NULL, 0, "not a JSON object" },
	{ 200, S("null"), 0, 0, F, 0, NULL, NULL, 0, "not a JSON object" },
	{ 200, S("true"), 0, 0, F, 0, NULL, NULL, 0, "not a JSON object" },
	{ 200, S(AT(ACC) ",\"expires_in\":3600"), 0, 1, F, 0, NULL, NULL, 0, "not a JSON object" },
	{ 200, S(AT(ACC) ",\"expires_in\":3600} trailing"), 0, 1, F, 0, NULL, NULL, 0, "not a JSON object" },
	{ 200, S(AT(ACC) ",\"expires_in\":3600}{}"), 0, 1, F, 0, NULL, NULL, 0, "not a JSON object" },
	{ 200, S(AT(ACC) ",\"expires_in\":3600,}"), 0, 1, F, 0, NULL, NULL, 0, "not a JSON object" },
	{ 200, S("\xEF\xBB\xBF" AT(ACC) ",\"expires_in\":3600}"), 0, 1, F, 0, NULL, NULL, 0, "not a JSON object" },
	/* embedded NULs */
	{ 200, S(AT(ACC) ",\"expires_in\":3600}\0"), 0, 1, F, 0, NULL, NULL, 0, "not a JSON object" },
	{ 200, S(AT(ACC) ",\"expires_in\":3600}\0{\"x\":1}"), 0, 0, F, 0, NULL, NULL, 0, "not a JSON object" },
	{ 200, S("\0" AT(ACC) ",\"expires_in\":3600}"), 0, 1, F, 0, NULL, NULL, 0, "not a JSON object" },
	{ 200, S(AT("at-ACC\0ESS") ",\"expires_in\":3600}"), 0, 1, F, 0, NULL, NULL, 0, "not a JSON object" },
	{ 200, S(AT("at-ACC\\u0000ESS") ",\"expires_in\":3600}"), 0, 1,
	    F, 0, NULL, NULL, 0, "access_token invalid (non-printable)" },
	/* 2xx object without a usable access_token */
	{ 200, S("{}"), 0, 1, F, 0, NULL, NULL, 0, "answer has no access_token" },
	{ 200, S("{\"refresh_token\":\"" NEW_RT "\",\"expires_in\":3600}"), 0, 1,
	    F, 0, NULL, NULL, 0, "answer has no access_token" },
	{ 200, S("{\"Access_Token\":\"" ACC "\",\"expires_in\":3600}"), 0, 1,
	    F, 0, NULL, NULL, 0, "answer has no access_token" },
	{ 200, S("{\"data\":" AT(ACC) "},\"expires_in\":3600}"), 0, 1,
	    F, 0, NULL, NULL, 0, "answer has no access_token" },
	{ 200, S(AT("") ",\"expires_in\":3600}"), 0, 1, F, 0, NULL, NULL, 0, "access_token empty" },
	{ 200, S("{\"access_token\":123,\"expires_in\":3600}"), 0, 1, F, 0, NULL, NULL, 0, "access_token not a string" },
	{ 200, S("{\"access_token\":null,\"expires_in\":3600}"), 0, 1, F, 0, NULL, NULL, 0, "access_token not a string" },
	{ 200, S("{\"access_token\":true,\"expires_in\":3600}"), 0, 1, F, 0, NULL, NULL, 0, "access_token not a string" },
	{ 200, S("{\"access_token\":[\"" ACC "\"],\"expires_in\":3600}"), 0, 1,
	    F, 0, NULL, NULL, 0, "access_token not a string" },
	{ 200, S("{\"access_token\":{\"t\":\"" ACC "\"},\"expires_in\":3600}"), 0, 1,
	    F, 0, NULL, NULL, 0, "access_token not a string" },
	/* SPEC: printable ASCII is 0x20-0x7E, the space included; the boundaries either side */
	{ 200, S(AT("at\\u001fACCESS") ",\"expires_in\":3600}"), 0, 1,
	    F, 0, NULL, NULL, 0, "access_token invalid (non-printable)" },
	{ 200, S(AT("at ACCESS") ",\"expires_in\":3600}"), 0, 1, R, 0, OLD_RT, "at ACCESS", NOW + 3600,
	    "refreshed" },
	{ 200, S(AT("at~ACCESS") ",\"expires_in\":3600}"), 0, 1, R, 0, OLD_RT, "at~ACCESS", NOW + 3600,
	    "refreshed" },
	{ 200, S(AT("at\\u007fACCESS") ",\"expires_in\":3600}"), 0, 1,
	    F, 0, NULL, NULL, 0, "access_token invalid (non-printable)" },
	{ 200, S(AT(ACC) ",\"expires_in\":3600,\"refresh_token\":\"rt with space\"}"), 0, 1, R, 0,
	    "rt with space", ACC, NOW + 3600, "refreshed" },
	{ 200, S(AT(ACC) ",\"expires_in\":3600,\"refresh_token\":\"rt\\u007f\"}"), 0, 1,
	    F, 0, NULL, NULL, 0, "refresh_token invalid (non-printable)" },
	{ 200, S(AT("at-ACCESS-xyz\\n") ",\"expires_in\":3600}"), 0, 1,
	    F, 0, NULL, NULL, 0, "access_token invalid (non-printable)" },
	{ 200, S(AT("caf\\u00e9") ",\"expires_in\":3600}"), 0, 1,
	    F, 0, NULL, NULL, 0, "access_token invalid (non-printable)" },
	{ 200, S(AT("caf\xC3\xA9") ",\"expires_in\":3600}"), 0, 1,
	    F, 0, NULL, NULL, 0, "access_token invalid (non-printable)" },
	{ 200, S(AT(TOKEN4096 "X") ",\"expires_in\":3600}"), 0, 1,
	    F, 0, NULL, NULL, 0, "access_token too long (4097 bytes)" },
	{ 200, S(AT(TOKEN5000) ",\"expires_in\":3600}"), 0, 0,
	    F, 0, NULL, NULL, 0, "access_token too long (5000 bytes)" },
	/* unusable refresh_token */
	{ 200, S(AT(ACC) ",\"expires_in\":3600,\"refresh_token\":\"rt\\u001fNEW\"}"), 0, 1,
	    F, 0, NULL, NULL, 0, "refresh_token invalid (non-printable)" },
	{ 200, S(AT(ACC) ",\"expires_in\":3600,\"refresh_token\":\"rt-NEW\\t\"}"), 0, 1,
	    F, 0, NULL, NULL, 0, "refresh_token invalid (non-printable)" },
	{ 200, S(AT(ACC) ",\"expires_in\":3600,\"refresh_token\":\"\"}"), 0, 1,
	    F, 0, NULL, NULL, 0, "refresh_token empty" },
	{ 200, S(AT(ACC) ",\"expires_in\":3600,\"refresh_token\":123}"), 0, 1,
	    F, 0, NULL, NULL, 0, "refresh_token not a string" },
	{ 200, S(AT(ACC) ",\"expires_in\":3600,\"refresh_token\":false}"), 0, 1,
	    F, 0, NULL, NULL, 0, "refresh_token not a string" },
	{ 200, S(AT(ACC) ",\"expires_in\":3600,\"refresh_token\":{}}"), 0, 1,
	    F, 0, NULL, NULL, 0, "refresh_token not a string" },
	{ 200, S(AT(ACC) ",\"expires_in\":3600,\"refresh_token\":\"" TOKEN5000 "\"}"), 0, 1,
	    F, 0, NULL, NULL, 0, "refresh_token too long (5000 bytes)" },
	/* too big: failed at any status, never a logout, a retry or a stop */
	{ 200, S(AT(ACC) ",\"expires_in\":3600}"), 1, 1, F, 0, NULL, NULL, 0, "response body over" },
	{ 200, S(""), 1, 0, F, 0, NULL, NULL, 0, "response body over" },
	{ 400, S("{\"error\":\"invalid_grant\"}"), 1, 1, F, 0, NULL, NULL, 0, "response body over" },
	{ 401, S("{\"error\":\"invalid_client\"}"), 1, 1, F, 0, NULL, NULL, 0, "response body over" },
	{ 400, S("{\"error\":\"invalid_client\"}"), 1, 1, F, 0, NULL, NULL, 0, "response body over" },
	{ 503, S("x"), 1, 1, F, 0, NULL, NULL, 0, "response body over" },
	{ 404, S("x"), 1, 1, F, 0, NULL, NULL, 0, "response body over" },
};

/*
 * Reasons: one line of printable ASCII, bounded, without any token (c: the
 * case's own tokens too, when given). Returns NULL, or what is wrong (in buf).
 */
static const char *reason_problem(const struct verdict *v, const struct judge_case *c, char *buf, size_t size)
{
	size_t n = strnlen(v->reason, sizeof v->reason);

	if (n == 0 || n >= REASON_MAX)
		return snprintf(buf, size, "reason length %zu", n) >= 0 ? buf : "reason length";
	for (const char *p = v->reason; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7F)
			return snprintf(buf, size, "reason byte 0x%02x", (unsigned char)*p) >= 0 ? buf : "reason byte";
	for (size_t k = 0; k < sizeof secrets / sizeof secrets[0]; k++)
		if (strstr(v->reason, secrets[k]) != NULL)
			return snprintf(buf, size, "reason '%s' holds a token", v->reason) >= 0 ? buf : "token";
	if (c != NULL && c->new_token != NULL && strstr(v->reason, c->new_token) != NULL)
		return "reason holds the refresh token";
	if (c != NULL && c->access_token != NULL && strstr(v->reason, c->access_token) != NULL)
		return "reason holds the access token";
	return NULL;
}

/* Keeps the first mismatch of a case in msg (so that everything is freed before the assertion). */
#define EXPECT(cond, ...)                                                         \
	do {                                                                      \
		if (!(cond) && msg[0] == '\0')                                    \
			(void)snprintf(msg, sizeof msg, __VA_ARGS__);             \
	} while (0)

START_TEST(test_judge_table)
{
	const struct judge_case *c = &judge_cases[_i];
	/* The body on the heap, sized exactly, so that reads past len are caught by valgrind/ASan. */
	char *body = malloc(c->len > 0 ? c->len : 1), msg[512] = "", buf[256];
	const char *problem;
	struct verdict v;

	ck_assert_ptr_nonnull(body);
	memcpy(body, c->body, c->len);
	memset(&v, 0xA5, sizeof v); /* judged into garbage: the verdict is zeroed first */
	oauth2_judge_answer(c->status, body, c->len, c->too_big, OLD_RT, c->need_expiry, NOW, &v);
	EXPECT(v.kind == c->kind, "case %d: kind %s, want %s (%s)", _i, answer_kind_name(v.kind),
	    answer_kind_name(c->kind), v.reason);
	EXPECT(v.stop_run == c->stop_run, "case %d: stop_run %d, want %d (%s)", _i, v.stop_run, c->stop_run,
	    v.reason);
	EXPECT(strstr(v.reason, c->reason) != NULL, "case %d: reason '%s', want '...%s...'", _i, v.reason, c->reason);
	if (c->new_token != NULL)
		EXPECT(v.new_token != NULL && strcmp(v.new_token, c->new_token) == 0,
		    "case %d: new_token '%.40s', want '%.40s'", _i, v.new_token ? v.new_token : "(null)", c->new_token);
	else
		EXPECT(v.new_token == NULL, "case %d: new_token set (%s)", _i, v.reason);
	if (c->access_token != NULL)
		EXPECT(v.access_token != NULL && strcmp(v.access_token, c->access_token) == 0,
		    "case %d: access_token '%.40s', want '%.40s'", _i, v.access_token ? v.access_token : "(null)",
		    c->access_token);
	else
		EXPECT(v.access_token == NULL, "case %d: access_token set (%s)", _i, v.reason);
	EXPECT(v.expires_at == c->expires_at, "case %d: expires_at %lld, want %lld", _i, v.expires_at,
	    c->expires_at);
	EXPECT(v.cookies == NULL, "case %d: cookies set", _i);
	problem = reason_problem(&v, c, buf, sizeof buf);
	EXPECT(problem == NULL, "case %d: %s", _i, problem);
	verdict_clear(&v);
	EXPECT(v.new_token == NULL && v.access_token == NULL, "case %d: verdict_clear left tokens", _i);
	verdict_clear(&v);
	free(body);
	ck_assert_msg(msg[0] == '\0', "%s", msg);
}
END_TEST

/* A NULL body: judged by status alone. */
START_TEST(test_judge_null_body)
{
	static const struct {
		long status;
		enum answer_kind kind;
		int stop_run;
	} t[] = { { 200, F, 0 }, { 400, F, 0 }, { 401, F, 1 }, { 503, TR, 0 }, { 404, F, 0 } };
	char buf[256];
	struct verdict v;

	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		oauth2_judge_answer(t[i].status, NULL, 0, 0, OLD_RT, 1, NOW, &v);
		ck_assert_int_eq(v.kind, t[i].kind);
		ck_assert_int_eq(v.stop_run, t[i].stop_run);
		ck_assert_ptr_null(v.new_token);
		ck_assert_ptr_null(v.access_token);
		const char *problem = reason_problem(&v, NULL, buf, sizeof buf);
		verdict_clear(&v);
		ck_assert_msg(problem == NULL, "status %ld: %s", t[i].status, problem);
	}
	verdict_clear(NULL);
}
END_TEST

/* JSON nested 10000 deep, as the whole body or next to a good access_token: failed, no crash. */
START_TEST(test_judge_deep)
{
	static const char head[] = AT(ACC) ",\"expires_in\":3600,\"x\":";
	size_t depth = 10000, o = 0;
	char *body = malloc(2 * depth + sizeof head + 8);
	struct verdict v;

	ck_assert_ptr_nonnull(body);
	for (size_t i = 0; i < depth; i++)
		body[o++] = '[';
	for (size_t i = 0; i < depth; i++)
		body[o++] = ']';
	oauth2_judge_answer(200, body, o, 0, OLD_RT, 1, NOW, &v);
	ck_assert_int_eq(v.kind, ANSWER_FAILED);
	ck_assert_int_eq(v.stop_run, 0);
	verdict_clear(&v);
	oauth2_judge_answer(400, body, o, 0, OLD_RT, 1, NOW, &v);
	ck_assert_int_eq(v.kind, ANSWER_FAILED);
	verdict_clear(&v);
	oauth2_judge_answer(401, body, o, 0, OLD_RT, 1, NOW, &v);
	ck_assert_int_eq(v.kind, ANSWER_FAILED);
	ck_assert_int_eq(v.stop_run, 1);
	verdict_clear(&v);

	o = strlen(head);
	memcpy(body, head, o);
	for (size_t i = 0; i < depth; i++)
		body[o++] = '[';
	for (size_t i = 0; i < depth; i++)
		body[o++] = ']';
	body[o++] = '}';
	oauth2_judge_answer(200, body, o, 0, OLD_RT, 1, NOW, &v);
	ck_assert_int_eq(v.kind, ANSWER_FAILED);
	ck_assert_ptr_null(v.access_token);
	verdict_clear(&v);

	/* Moderate nesting (20) is fine. */
	o = strlen(head);
	memset(body + o, '[', 20);
	memset(body + o + 20, ']', 20);
	o += 40;
	body[o++] = '}';
	oauth2_judge_answer(200, body, o, 0, OLD_RT, 1, NOW, &v);
	ck_assert_int_eq(v.kind, ANSWER_REFRESHED);
	ck_assert_str_eq(v.access_token, ACC);
	verdict_clear(&v);
	free(body);
}
END_TEST

/* Random bytes behind a '{': never refreshed, never a logout, never a crash. */
START_TEST(test_judge_binary)
{
	static const long statuses[] = { 200, 400, 401 };
	char *body = malloc(2048), buf[256];
	uint64_t x = 0x243F6A8885A308D3ULL;

	ck_assert_ptr_nonnull(body);
	for (int round = 0; round < 300; round++) {
		size_t len = (size_t)(round * 7) % 2048;
		long status = statuses[round % 3];
		struct verdict v;

		for (size_t i = 0; i < len; i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			body[i] = (char)(x & 0xFF);
		}
		if (len > 0)
			body[0] = '{';
		oauth2_judge_answer(status, body, len, 0, OLD_RT, round & 1, NOW, &v);
		ck_assert_int_eq(v.kind, ANSWER_FAILED);
		ck_assert_int_eq(v.stop_run, status == 401);
		const char *problem = reason_problem(&v, NULL, buf, sizeof buf);
		verdict_clear(&v);
		ck_assert_msg(problem == NULL, "round %d: %s", round, problem);
	}
	free(body);
}
END_TEST

Suite *oauth2_suite(void)
{
	Suite *s = suite_create("oauth2");
	TCase *tc = tcase_create("jwt_exp");
	tcase_set_timeout(tc, TCASE_TIMEOUT_S);

	tcase_add_loop_test(tc, test_jwt_table, 0, (int)(sizeof jwt_cases / sizeof jwt_cases[0]));
	tcase_add_test(tc, test_jwt_helper);
	tcase_add_test(tc, test_jwt_null);
	tcase_add_test(tc, test_jwt_size);
	tcase_add_test(tc, test_jwt_deep);
	tcase_add_test(tc, test_jwt_random);
	suite_add_tcase(s, tc);

	tc = tcase_create("basic_auth");
	tcase_set_timeout(tc, TCASE_TIMEOUT_S);
	tcase_add_loop_test(tc, test_basic_table, 0, (int)(sizeof basic_cases / sizeof basic_cases[0]));
	tcase_add_test(tc, test_basic_edges);
	suite_add_tcase(s, tc);

	tc = tcase_create("judge");
	tcase_set_timeout(tc, TCASE_TIMEOUT_S);
	tcase_add_loop_test(tc, test_judge_table, 0, (int)(sizeof judge_cases / sizeof judge_cases[0]));
	tcase_add_test(tc, test_judge_null_body);
	tcase_add_test(tc, test_judge_deep);
	tcase_add_test(tc, test_judge_binary);
	suite_add_tcase(s, tc);
	return s;
}
